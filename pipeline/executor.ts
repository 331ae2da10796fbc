/**
 * Runs a stage graph against an artifact store. It receives a validated graph and
 * never reads YAML, argv or globals; it reports through events and the run directory.
 *
 * Stages go in graph order. For each, `decideStage` (shared with `status`) says what to
 * do; a stage to run becomes a `StageJob` with explicit inputs for `runStage`. The run
 * stops at the first stage that fails or is interrupted; the rest are recorded as
 * skipped.
 */
import path from "node:path";
import type { EventSink } from "./events.js";
import { unreachable } from "./failure.js";
import type { Fingerprint, RunStatus } from "./formats.js";
import type { GraphStage, StageGraph } from "./graph.js";
import type { RunDirectory } from "./run-directory.js";
import { recordReuse, runStage, type StageJob, type StageRunDeps, type StageRunOutcome } from "./run-stage.js";
import { decideStage, type StageDecision, type UpstreamState } from "./stage-decision.js";
import { preflightStop, recordPreflightStop, type PreflightStop } from "./preflight.js";
import type { ArtifactStore } from "./store/artifact-store.js";

export interface ExecuteRequest {
  readonly graph: StageGraph;
  /** Stages the command acts on; others are only reused from the store when something selected needs them. */
  readonly selected: ReadonlySet<string>;
  /** Stages to run even when a cached result exists. */
  readonly force: ReadonlySet<string> | "all";
  /** Aborted to stop the run (Ctrl-C): the running stage is asked to stop, and waited for. */
  readonly signal: AbortSignal;
  /**
   * Aborted to stop without waiting for the running stage any longer (a second Ctrl-C);
   * its protected work (a checkpoint being written) is still awaited. The stage's code
   * may then still be running when `execute` returns: the caller should end the process.
   */
  readonly hurry?: AbortSignal;
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

export async function execute(request: ExecuteRequest, deps: ExecutorDeps): Promise<ExecuteResult> {
  const { graph, selected, force, signal } = request;
  const { runDir, sink } = deps;
  const now = deps.now ?? Date.now;
  const started = now();
  const stageDeps: StageRunDeps = { store: deps.store, runDir, sink, signal, ...(request.hurry ? { hurry: request.hurry } : {}), now };
  sink.emit({
    type: "run-start",
    runId: runDir.id,
    runDir: runDir.dir,
    experiment: graph.experiment.name,
    stages: graph.stages.map((s) => ({ id: s.id, uses: s.type.name, selected: selected.has(s.id) })),
  });

  let running: string | null = null;
  const stopWatch = watchStopRequests(request, sink, () => running);
  const upstream = new Map<string, UpstreamState>();
  let result: ExecuteResult = { status: "succeeded", stageId: null, message: null };
  try {
    for (const stage of graph.stages) {
      if (result.status !== "succeeded") {
        await skip(stage.id, notRunBecause(result));
        continue;
      }
      const decision = await decideStage(
        { graph, stage, selected: selected.has(stage.id), forced: force === "all" || force.has(stage.id), upstream: (id) => upstream.get(id) ?? { kind: "unavailable", why: "did not run" } },
        deps,
      );
      if (signal.aborted) {
        // Asked to stop while deciding, which digests dataset folders and can take a while.
        result = { status: "interrupted", stageId: null, message: "interrupted" };
        await skip(stage.id, notRunBecause(result));
        continue;
      }
      if (decision.kind === "run") {
        // Before anything runs: stop now if the results so far already doom a stage still to run.
        const stop = preflightStop(graph, selected, stage.id, runDir.stageMetrics());
        if (stop) {
          await recordPreflightStop(stop, graph, runDir, sink);
          result = { status: "failed", stageId: stop.problems[0]?.stageIds[0] ?? stage.id, message: "preflight checks failed", preflight: stop };
          break;
        }
      }
      running = decision.kind === "run" ? stage.id : null;
      const outcome = await carryOut(stage, decision);
      running = null;
      upstream.set(stage.id, outcome.upstream);
      if (outcome.stop) result = outcome.stop;
    }
  } finally {
    stopWatch.dispose();
  }

  await runDir.finish(result.status);
  sink.emit({ type: "run-end", runId: runDir.id, runDir: runDir.dir, status: result.status, durationMs: now() - started });
  return result;

  /** Does what `decision` says; returns what later stages see of this one, and why the run stops, if it does. */
  async function carryOut(stage: GraphStage, decision: StageDecision): Promise<{ upstream: UpstreamState; stop?: ExecuteResult }> {
    switch (decision.kind) {
      case "skip":
        await skip(stage.id, decision.reason);
        return { upstream: { kind: "unavailable", why: decision.unavailable } };
      case "blocked":
        await runDir.updateStage(stage.id, { status: "failed", reason: decision.reason, error: decision.message });
        sink.emit({ type: "stage-failed", id: stage.id, message: decision.message, logFile: null });
        return { upstream: { kind: "unavailable", why: "cannot run" }, stop: { status: "failed", stageId: stage.id, message: decision.message } };
      case "reuse":
        await recordReuse(stage.id, decision.record, decision.reason, stageDeps);
        return { upstream: { kind: "ready", artifactDigest: decision.record.artifactDigest } };
      case "after-upstream":
        // Upstream stages have finished by the time a stage is decided here.
        throw new Error(`internal error: stage ${stage.id} decided before its upstream stages ran`);
      case "run":
        return afterRun(stage.id, await runStage(await jobFor(stage, decision), stageDeps));
      default:
        return unreachable(decision);
    }
  }

  async function jobFor(stage: GraphStage, decision: Extract<StageDecision, { kind: "run" }>): Promise<StageJob> {
    const ready = (id: string): string => {
      const state = upstream.get(id);
      if (state?.kind !== "ready") throw new Error(`internal error: stage ${stage.id} runs before its input stage ${id} is ready`);
      return state.artifactDigest;
    };
    const { settings, name, baseDir } = graph.experiment;
    const inputs = await Promise.all(stage.inputs.map(async (i) => [i.name, path.join(await deps.store.materialize(ready(i.stage)), i.output)] as const));
    return {
      stageId: stage.id,
      type: stage.type,
      params: stage.config.params,
      inputs: Object.fromEntries(inputs),
      fingerprint: decision.fingerprint,
      key: decision.key,
      reason: decision.reasons.join("; "),
      forced: decision.forced,
      resume: decision.resume,
      description: `${name}/${stage.id}`,
      baseDir,
      seed: settings.seed,
      runtime: settings.runtime,
    };
  }

  async function skip(id: string, reason: string): Promise<void> {
    await runDir.updateStage(id, { status: "skipped", reason });
    sink.emit({ type: "stage-skipped", id, reason });
  }
}

function notRunBecause(stop: ExecuteResult): string {
  return stop.stageId ? `not run: the run stopped at ${stop.stageId}` : "not run: the run was interrupted";
}

function afterRun(stageId: string, outcome: StageRunOutcome): { upstream: UpstreamState; stop?: ExecuteResult } {
  switch (outcome.kind) {
    case "done":
      return { upstream: { kind: "ready", artifactDigest: outcome.record.artifactDigest } };
    case "failed":
      return { upstream: { kind: "unavailable", why: "failed" }, stop: { status: "failed", stageId, message: outcome.message } };
    case "interrupted":
      return { upstream: { kind: "unavailable", why: "was interrupted" }, stop: { status: "interrupted", stageId, message: `interrupted during stage ${stageId}` } };
    default:
      return unreachable(outcome);
  }
}

/** Says at once that the run is stopping (and later, hurrying), naming the stage it waits for. */
function watchStopRequests(request: ExecuteRequest, sink: EventSink, running: () => string | null): { dispose(): void } {
  const onStop = (): void => sink.emit({ type: "run-stopping", stageId: running(), hurry: false });
  const onHurry = (): void => sink.emit({ type: "run-stopping", stageId: running(), hurry: true });
  request.signal.addEventListener("abort", onStop, { once: true });
  request.hurry?.addEventListener("abort", onHurry, { once: true });
  return {
    dispose() {
      request.signal.removeEventListener("abort", onStop);
      request.hurry?.removeEventListener("abort", onHurry);
    },
  };
}
