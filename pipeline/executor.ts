/**
 * Runs a stage graph against an artifact store. It receives a validated graph and
 * never reads YAML, argv or globals; it reports through events and the run directory.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { EventSink } from "./events.js";
import { MuPipeError } from "./failure.js";
import { explainFingerprintChange, fingerprintKey } from "./fingerprint.js";
import type { Fingerprint, RunStatus, StageRecord } from "./formats.js";
import type { GraphStage, StageGraph } from "./graph.js";
import type { RunDirectory } from "./run-directory.js";
import { preflightStop, recordPreflightStop, type PreflightStop } from "./preflight.js";
import { fingerprintInGraph } from "./stage-fingerprint.js";
import type { ProgressUpdate, StageContext } from "./stage.js";
import type { ArtifactStore } from "./store/artifact-store.js";

export interface ExecuteRequest {
  readonly graph: StageGraph;
  /** Stages the command acts on; others are only reused from the store when something selected needs them. */
  readonly selected: ReadonlySet<string>;
  /** Stages to run even when a cached result exists. */
  readonly force: ReadonlySet<string> | "all";
  readonly signal: AbortSignal;
}

export interface ExecutorDeps {
  readonly store: ArtifactStore;
  readonly runDir: RunDirectory;
  readonly sink: EventSink;
  digestExternal(absPath: string): Promise<string>;
  /** The fingerprint this stage had in the experiment's previous run, to explain why it runs. */
  previousFingerprint(stageId: string): Promise<Fingerprint | null>;
  now?(): number;
}

export interface ExecuteResult {
  readonly status: RunStatus;
  /** The stage that failed or was interrupted. */
  readonly stageId: string | null;
  readonly message: string | null;
  /** Set when the run stopped before a stage started because a preflight check failed (pipeline/preflight.ts). */
  readonly preflight?: PreflightStop;
}

/** Progress events at most this often per stage: a terminal cannot show more. */
const PROGRESS_INTERVAL_MS = 100;

class StageFailure extends Error {}

export async function execute(request: ExecuteRequest, deps: ExecutorDeps): Promise<ExecuteResult> {
  const { graph, selected, force, signal } = request;
  const { store, runDir, sink } = deps;
  const now = deps.now ?? Date.now;
  const started = now();
  sink.emit({
    type: "run-start",
    runId: runDir.id,
    runDir: runDir.dir,
    experiment: graph.experiment.name,
    stages: graph.stages.map((s) => ({ id: s.id, uses: s.type.name, selected: selected.has(s.id) })),
  });

  const digests = new Map<string, string>();
  const unavailable = new Map<string, string>(); // stage id -> why its output is not there
  let result: ExecuteResult = { status: "succeeded", stageId: null, message: null };

  for (const stage of graph.stages) {
    if (result.status !== "succeeded") {
      await skip(stage.id, `not run: the run stopped at ${result.stageId ?? "an earlier stage"}`);
      continue;
    }
    const blockedBy = stage.inputs.find((i) => unavailable.has(i.stage));
    if (blockedBy) {
      const why = `input \`${blockedBy.name}\` needs stage ${blockedBy.stage}, which ${unavailable.get(blockedBy.stage) ?? "did not run"}`;
      if (selected.has(stage.id)) {
        result = { status: "failed", stageId: stage.id, message: why };
        await runDir.updateStage(stage.id, { status: "failed", reason: why, error: why });
        sink.emit({ type: "stage-failed", id: stage.id, message: why, logFile: null });
      } else {
        unavailable.set(stage.id, "is not selected and has no cached result");
        await skip(stage.id, "not selected");
      }
      continue;
    }

    let fingerprint: Fingerprint;
    try {
      fingerprint = await fingerprintInGraph(graph, stage, digests, deps.digestExternal);
    } catch (error) {
      // E.g. a dataset folder that does not exist: the stage cannot run, and the run ends here.
      const message = `cannot read what the stage depends on: ${errorText(error)}`;
      result = { status: "failed", stageId: stage.id, message };
      await runDir.updateStage(stage.id, { status: "failed", reason: "inputs unreadable", error: message });
      sink.emit({ type: "stage-failed", id: stage.id, message, logFile: null });
      continue;
    }
    const key = fingerprintKey(fingerprint);
    const forced = force === "all" || force.has(stage.id);
    const cached = await store.lookup(key);

    if (!selected.has(stage.id)) {
      if (cached) {
        await reuse(stage, cached, "not selected; cached result used");
      } else {
        unavailable.set(stage.id, "is not selected and has no cached result for its current inputs (run it too, or drop --only/--from)");
        await skip(stage.id, "not selected");
      }
      continue;
    }
    if (cached && !forced) {
      await reuse(stage, cached, "fingerprint matches a cached result");
      continue;
    }

    // Before anything runs: stop now if the results so far already doom a stage still to run.
    const stop = preflightStop(graph, selected, stage.id, runDir.stageMetrics());
    if (stop) {
      await recordPreflightStop(stop, graph, runDir, sink);
      result = { status: "failed", stageId: stop.problems[0]?.stageIds[0] ?? stage.id, message: "preflight checks failed", preflight: stop };
      break;
    }
    const reason = forced ? "forced" : (await explain(stage.id, fingerprint)).join("; ");
    const outcome = await runStage(stage, fingerprint, key, reason, forced);
    if (outcome.kind === "done") {
      digests.set(stage.id, outcome.record.artifactDigest);
    } else {
      result = { status: outcome.kind, stageId: stage.id, message: outcome.message };
    }
  }

  await runDir.finish(result.status);
  sink.emit({ type: "run-end", runId: runDir.id, runDir: runDir.dir, status: result.status, durationMs: now() - started });
  return result;

  async function skip(id: string, reason: string): Promise<void> {
    await runDir.updateStage(id, { status: "skipped", reason });
    sink.emit({ type: "stage-skipped", id, reason });
  }

  async function reuse(stage: GraphStage, record: StageRecord, reason: string): Promise<void> {
    digests.set(stage.id, record.artifactDigest);
    await runDir.linkArtifact(stage.id, store.artifactPath(record.artifactDigest));
    const log = await store.readLog(record.fingerprintKey);
    await fs.writeFile(runDir.logFile(stage.id), `# reused: computed ${record.finishedAt}\n${log ?? ""}`);
    await runDir.updateStage(stage.id, {
      status: "reused",
      reason,
      fingerprintKey: record.fingerprintKey,
      artifactDigest: record.artifactDigest,
      durationMs: 0,
      environment: record.environment ?? null,
      computedMs: record.durationMs,
    });
    await runDir.setMetrics(stage.id, record.metrics);
    sink.emit({ type: "stage-reused", id: stage.id, reason, artifactDigest: record.artifactDigest });
  }

  async function explain(id: string, fingerprint: Fingerprint): Promise<string[]> {
    const previous = await deps.previousFingerprint(id);
    const reasons = explainFingerprintChange(previous, fingerprint);
    return reasons.length > 0 ? reasons : ["no cached result for this fingerprint"];
  }

  type StageOutcomeKind = { kind: "done"; record: StageRecord } | { kind: "failed" | "interrupted"; message: string };

  async function runStage(stage: GraphStage, fingerprint: Fingerprint, key: string, reason: string, forced: boolean): Promise<StageOutcomeKind> {
    const lock = await store.lock(key, `${graph.experiment.name}/${stage.id}`, (holder) => sink.emit({ type: "stage-waiting", id: stage.id, holder }), signal).catch(
      (error: unknown) => {
        if (signal.aborted) return null;
        throw error;
      },
    );
    if (!lock) return interrupted(stage.id);
    try {
      if (!forced) {
        const meanwhile = await store.lookup(key);
        if (meanwhile) {
          await reuse(stage, meanwhile, "computed meanwhile by another mu-pipe process");
          return { kind: "done", record: meanwhile };
        }
      }
      return await attempt(stage, fingerprint, key, reason);
    } finally {
      await lock.release();
    }
  }

  async function attempt(stage: GraphStage, fingerprint: Fingerprint, key: string, reason: string): Promise<StageOutcomeKind> {
    const startedAt = new Date(now());
    await runDir.updateStage(stage.id, { status: "running", reason, fingerprintKey: key, startedAt: startedAt.toISOString() });
    sink.emit({ type: "stage-start", id: stage.id, reason });

    const logFile = runDir.logFile(stage.id);
    const log = createWriteStream(logFile);
    const logLines: string[] = [];
    const writeLog = (line: string): void => {
      const text = `${new Date(now()).toISOString()} ${line}\n`;
      logLines.push(text);
      log.write(text);
    };
    writeLog(`stage ${stage.id} (${stage.type.name} v${stage.type.version}) running: ${reason}`);

    const work = await store.beginAttempt(key);
    try {
      const ctx: StageContext<Record<string, unknown>> = {
        stageId: stage.id,
        params: stage.config.params,
        inputs: Object.fromEntries(stage.inputs.map((i) => [i.name, path.join(store.artifactPath(digests.get(i.stage) ?? ""), i.output)])),
        outDir: work.dir,
        scratchDir: await store.scratchDir(key),
        baseDir: graph.experiment.baseDir,
        seed: graph.experiment.settings.seed,
        runtime: graph.experiment.settings.runtime,
        signal,
        log: writeLog,
        progress: progressReporter(stage.id, startedAt.getTime()),
      };
      const outcome = await untilAborted(stage.type.run(ctx), signal);
      const missing = [];
      for (const output of Object.keys(stage.type.outputs)) {
        if (!(await exists(path.join(work.dir, output)))) missing.push(output);
      }
      if (missing.length > 0) throw new StageFailure(`stage type ${stage.type.name} finished without writing its output ${missing.map((m) => `\`${m}\``).join(", ")}`);

      const metrics = outcome?.metrics ?? {};
      const finishedAt = new Date(now());
      writeLog(`finished in ${finishedAt.getTime() - startedAt.getTime()} ms`);
      const record = await work.commit({
        fingerprint,
        metrics,
        ...(outcome?.environment ? { environment: outcome.environment } : {}),
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
      });
      await store.writeLog(key, logLines.join(""));
      await store.clearScratch(key);
      await runDir.linkArtifact(stage.id, store.artifactPath(record.artifactDigest));
      await runDir.updateStage(stage.id, {
        status: "succeeded",
        artifactDigest: record.artifactDigest,
        finishedAt: record.finishedAt,
        durationMs: record.durationMs,
        environment: record.environment ?? null,
      });
      await runDir.setMetrics(stage.id, metrics);
      sink.emit({ type: "stage-succeeded", id: stage.id, durationMs: record.durationMs, metrics });
      return { kind: "done", record };
    } catch (error) {
      await work.discard();
      const finishedAt = new Date(now()).toISOString();
      const durationMs = now() - startedAt.getTime();
      if (signal.aborted) {
        writeLog("interrupted");
        await runDir.updateStage(stage.id, { status: "interrupted", finishedAt, durationMs, error: "interrupted" });
        sink.emit({ type: "stage-interrupted", id: stage.id });
        return interrupted(stage.id);
      }
      const message = error instanceof Error ? error.message : String(error);
      writeLog(`FAILED: ${error instanceof Error && !(error instanceof StageFailure) ? (error.stack ?? message) : message}`);
      await runDir.updateStage(stage.id, { status: "failed", finishedAt, durationMs, error: message });
      sink.emit({ type: "stage-failed", id: stage.id, message, logFile });
      return { kind: "failed", message };
    } finally {
      await closeStream(log);
    }
  }

  function interrupted(stageId: string): StageOutcomeKind {
    return { kind: "interrupted", message: `interrupted during stage ${stageId}` };
  }

  function progressReporter(id: string, startedAtMs: number): (update: ProgressUpdate) => void {
    let last = 0;
    return (update) => {
      const t = now();
      const finished = update.total !== undefined && update.current === update.total;
      if (t - last < PROGRESS_INTERVAL_MS && !finished) return;
      last = t;
      let etaSeconds: number | null = null;
      if (update.current !== undefined && update.total !== undefined && update.current > 0) {
        etaSeconds = (((t - startedAtMs) / update.current) * (update.total - update.current)) / 1000;
      }
      sink.emit({ type: "stage-progress", id, update, etaSeconds });
    };
  }
}

function errorText(error: unknown): string {
  if (error instanceof MuPipeError && error.failure.reason === "io") return `${error.failure.path}: ${error.failure.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Resolves with the stage's result, or rejects as soon as the signal aborts (a stage may ignore it). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}
