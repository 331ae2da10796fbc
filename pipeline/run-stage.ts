/**
 * Runs one stage whose fate is decided (see stage-decision.ts): takes the fingerprint's
 * lock, runs the stage type into a temp folder, commits the artifact and records the
 * outcome in the run folder and as events. Everything it needs comes in the `StageJob`,
 * so the same function can serve a run of several stages at once or a stage run in a
 * process of its own.
 */
import { createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import type { EventSink } from "./events.js";
import type { Fingerprint, StageRecord } from "./formats.js";
import type { RunRecorder } from "./run-recorder.js";
import type { ProgressUpdate, RuntimeSettings, StageContext, StageType } from "./stage.js";
import { AbandonedError, ProtectedWork, settleOrAbandon } from "./stopping.js";
import type { ArtifactStore } from "./store/artifact-store.js";

export interface StageJob {
  readonly stageId: string;
  readonly type: StageType;
  /** Validated params with defaults filled in. */
  readonly params: Record<string, unknown>;
  /** Input name -> absolute path of the upstream output. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly fingerprint: Fingerprint;
  readonly key: string;
  /** Why it runs, as recorded in run.json and shown when it starts. */
  readonly reason: string;
  /** Run even if another process has just computed it. */
  readonly forced: boolean;
  /** What an interrupted attempt left to resume from, shown when it starts. */
  readonly resume: string | null;
  /** Names the job in the lock, for a process that waits for it (`<experiment>/<stage>`). */
  readonly description: string;
  readonly baseDir: string;
  readonly seed: number;
  readonly runtime: RuntimeSettings;
}

export interface StageRunDeps {
  readonly store: ArtifactStore;
  /** Where the stage records itself: the run folder, or a forwarder to the process that owns it. */
  readonly runDir: RunRecorder;
  readonly sink: EventSink;
  /** Aborted on the first Ctrl-C: the stage is asked to stop, and waited for. */
  readonly signal: AbortSignal;
  /** Aborted on the second: stop waiting for the stage (its protected work is still awaited). */
  readonly hurry?: AbortSignal;
  /** At most one progress event per this many ms (default 100; a Slurm job's output file wants fewer). */
  readonly progressIntervalMs?: number;
  now(): number;
}

export type StageRunOutcome = { readonly kind: "done"; readonly record: StageRecord } | { readonly kind: "failed"; readonly message: string } | { readonly kind: "interrupted" };

/** Progress events at most this often per stage: a terminal cannot show more. */
const PROGRESS_INTERVAL_MS = 100;

/** An error the engine words itself: its stack would not help. */
class StageFailure extends Error {}

export async function runStage(job: StageJob, deps: StageRunDeps): Promise<StageRunOutcome> {
  const { store, runDir, sink, signal } = deps;
  const lock = await store.lock(job.key, job.description, (holder) => sink.emit({ type: "stage-waiting", id: job.stageId, holder }), signal).catch((error: unknown) => {
    if (signal.aborted) return null;
    throw error;
  });
  if (!lock) {
    await runDir.updateStage(job.stageId, { status: "interrupted", reason: job.reason, error: "interrupted while waiting for another process computing it" });
    sink.emit({ type: "stage-interrupted", id: job.stageId });
    return { kind: "interrupted" };
  }
  try {
    if (!job.forced) {
      const meanwhile = await store.lookup(job.key);
      if (meanwhile) {
        await recordReuse(job.stageId, meanwhile, "computed meanwhile by another mu-pipe process", deps);
        return { kind: "done", record: meanwhile };
      }
    }
    return await attempt(job, deps);
  } finally {
    // After a hurried stop the stage's code may still run, but the process ends right after.
    await lock.release();
  }
}

/** Links a stored result into the run and records it as reused. */
export async function recordReuse(stageId: string, record: StageRecord, reason: string, deps: Pick<StageRunDeps, "store" | "runDir" | "sink">): Promise<void> {
  const { store, runDir, sink } = deps;
  await runDir.linkArtifact(stageId, await store.materialize(record.artifactDigest), record.artifactDigest);
  const log = await store.readLog(record.fingerprintKey);
  await fs.writeFile(runDir.logFile(stageId), `# reused: computed ${record.finishedAt}\n${log ?? ""}`);
  await runDir.updateStage(stageId, {
    status: "reused",
    reason,
    fingerprintKey: record.fingerprintKey,
    artifactDigest: record.artifactDigest,
    durationMs: 0,
    environment: record.environment ?? null,
    computedMs: record.durationMs,
  });
  await runDir.setMetrics(stageId, record.metrics);
  sink.emit({ type: "stage-reused", id: stageId, reason, artifactDigest: record.artifactDigest });
}

/** One attempt with the lock held: the stage's code, then commit (or discard) and record. */
async function attempt(job: StageJob, deps: StageRunDeps): Promise<StageRunOutcome> {
  const { store, runDir, sink, signal, now } = deps;
  const startedAt = new Date(now());
  await runDir.updateStage(job.stageId, { status: "running", reason: job.reason, fingerprintKey: job.key, startedAt: startedAt.toISOString() });
  sink.emit({ type: "stage-start", id: job.stageId, reason: job.reason, ...(job.resume === null ? {} : { resume: job.resume }) });

  const logFile = runDir.logFile(job.stageId);
  const log = new StageLog(logFile, now);
  log.write(`stage ${job.stageId} (${job.type.name} v${job.type.version}) running: ${job.reason}`);
  const work = await store.beginAttempt(job.key);
  const protectedWork = new ProtectedWork();
  const progress = progressReporter(job.stageId, startedAt.getTime(), deps);
  let ended = false; // a stage left running after a hurried stop must not log or report any more
  try {
    const ctx: StageContext<Record<string, unknown>> = {
      stageId: job.stageId,
      params: job.params,
      inputs: job.inputs,
      outDir: work.dir,
      scratchDir: await store.scratchDir(job.key),
      baseDir: job.baseDir,
      seed: job.seed,
      runtime: job.runtime,
      signal,
      protect: (promise) => protectedWork.protect(promise),
      log: (line) => {
        if (!ended) log.write(line);
      },
      progress: (update) => {
        if (!ended) progress(update);
      },
    };
    const outcome = await settleOrAbandon(job.type.run(ctx), deps.hurry, protectedWork);
    const missing = [];
    for (const output of Object.keys(job.type.outputs)) {
      if (!(await exists(path.join(work.dir, output)))) missing.push(output);
    }
    if (missing.length > 0) throw new StageFailure(`stage type ${job.type.name} finished without writing its output ${missing.map((m) => `\`${m}\``).join(", ")}`);

    const metrics = outcome?.metrics ?? {};
    const finishedAt = new Date(now());
    log.write(`finished in ${finishedAt.getTime() - startedAt.getTime()} ms`);
    const record = await work.commit({
      fingerprint: job.fingerprint,
      metrics,
      ...(outcome?.environment ? { environment: outcome.environment } : {}),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    });
    await store.writeLog(job.key, log.text());
    await store.clearScratch(job.key);
    await runDir.linkArtifact(job.stageId, await store.materialize(record.artifactDigest), record.artifactDigest);
    await runDir.updateStage(job.stageId, {
      status: "succeeded",
      artifactDigest: record.artifactDigest,
      finishedAt: record.finishedAt,
      durationMs: record.durationMs,
      environment: record.environment ?? null,
    });
    await runDir.setMetrics(job.stageId, metrics);
    sink.emit({ type: "stage-succeeded", id: job.stageId, durationMs: record.durationMs, metrics });
    return { kind: "done", record };
  } catch (error) {
    ended = true;
    await work.discard();
    const finishedAt = new Date(now()).toISOString();
    const durationMs = now() - startedAt.getTime();
    if (signal.aborted) {
      log.write(error instanceof AbandonedError ? `interrupted: ${error.message}` : "interrupted");
      await runDir.updateStage(job.stageId, { status: "interrupted", finishedAt, durationMs, error: "interrupted" });
      sink.emit({ type: "stage-interrupted", id: job.stageId });
      return { kind: "interrupted" };
    }
    const message = withoutOwnName(error instanceof Error ? error.message : String(error), job);
    log.write(`FAILED: ${error instanceof Error && !(error instanceof StageFailure) ? (error.stack ?? message) : message}`);
    await runDir.updateStage(job.stageId, { status: "failed", finishedAt, durationMs, error: message });
    sink.emit({ type: "stage-failed", id: job.stageId, message, logFile });
    return { kind: "failed", message };
  } finally {
    ended = true;
    await log.close();
  }
}

/**
 * A stage's message without a leading `<type>: ` or `<stage id>: ` (stage code names
 * itself for callers outside the engine); the engine names the stage already.
 */
function withoutOwnName(message: string, job: Pick<StageJob, "stageId" | "type">): string {
  for (const name of [job.type.name, job.stageId]) {
    if (message.startsWith(`${name}: `)) return message.slice(name.length + 2);
  }
  return message;
}

/** The stage's log file, and the same lines kept for the store (a reused stage shows them). */
class StageLog {
  readonly #stream;
  readonly #lines: string[] = [];

  constructor(
    file: string,
    private readonly now: () => number,
  ) {
    this.#stream = createWriteStream(file);
  }

  write(line: string): void {
    const text = `${new Date(this.now()).toISOString()} ${line}\n`;
    this.#lines.push(text);
    this.#stream.write(text);
  }

  text(): string {
    return this.#lines.join("");
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(() => resolve()));
  }
}

function progressReporter(id: string, startedAtMs: number, deps: Pick<StageRunDeps, "sink" | "now" | "progressIntervalMs">): (update: ProgressUpdate) => void {
  const interval = deps.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  let last = 0;
  return (update) => {
    const t = deps.now();
    const finished = update.total !== undefined && update.current === update.total;
    if (t - last < interval && !finished) return;
    last = t;
    let etaSeconds: number | null = null;
    if (update.current !== undefined && update.total !== undefined && update.current > 0) {
      etaSeconds = (((t - startedAtMs) / update.current) * (update.total - update.current)) / 1000;
    }
    deps.sink.emit({ type: "stage-progress", id, update, etaSeconds });
  };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
