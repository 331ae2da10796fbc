/**
 * Runs stage graphs against an artifact store: one run, or the runs of a sweep. It
 * receives validated graphs and never reads YAML, argv or globals; it reports through
 * events and the run directories.
 *
 * Each stage is decided by `decideStage` (shared with `status`) once the stages it reads
 * have settled; a stage to run waits for one of `jobs` slots and is handed to the
 * launcher (in this process, or a worker process of its own). With one slot, stages go
 * strictly in graph order, one run after another: today's sequential run. With more,
 * independent stages, and the runs of a sweep, overlap. Two runs that need the same
 * fingerprint compute it once: the second waits for the first and then reuses it.
 *
 * A run stops at its first failed or interrupted stage: stages not started are recorded
 * as skipped, stages already running in parallel finish. Ctrl-C stops every run.
 */
import type { EventSink } from "./events.js";
import { unreachable } from "./failure.js";
import type { Fingerprint, RunStatus } from "./formats.js";
import type { GraphStage, StageGraph } from "./graph.js";
import type { RunDirectory } from "./run-directory.js";
import { recordReuse, type StageRunDeps } from "./run-stage.js";
import { decideStage, type StageDecision, type UpstreamState } from "./stage-decision.js";
import { preflightStop, recordPreflightStop, type PreflightStop } from "./preflight.js";
import type { ArtifactStore } from "./store/artifact-store.js";
import type { JobOutcome } from "./jobs/job-messages.js";

export interface ExecuteResult {
  readonly status: RunStatus;
  /** The stage that failed or was interrupted. */
  readonly stageId: string | null;
  readonly message: string | null;
  /** Set when the run stopped before a stage started because a preflight check failed (pipeline/preflight.ts). */
  readonly preflight?: PreflightStop;
}

/** One run to carry out: its graph, what the command selected, and where it records itself. */
export interface ScheduledRun {
  readonly graph: StageGraph;
  /** Stages the command acts on; others are only reused from the store when something selected needs them. */
  readonly selected: ReadonlySet<string>;
  /** Stages to run even when a cached result exists. */
  readonly force: ReadonlySet<string> | "all";
  readonly runDir: RunDirectory;
  readonly sink: EventSink;
  readonly store: ArtifactStore;
  digestExternal(absPath: string): Promise<string>;
  /** The fingerprint this stage had in the experiment's previous run, to explain why it runs. */
  previousFingerprint(stageId: string): Promise<Fingerprint | null>;
}

/** A decided stage handed over to run. */
export interface LaunchRequest {
  readonly run: ScheduledRun;
  readonly stage: GraphStage;
  readonly decision: Extract<StageDecision, { kind: "run" }>;
  /** The artifact digest each input stage came to. */
  inputDigest(stageId: string): string;
  readonly signal: AbortSignal;
  readonly hurry?: AbortSignal;
}

/** Runs one decided stage: in this process (run-stage.ts) or in a worker process (jobs/). */
export interface StageLauncher {
  launch(request: LaunchRequest): Promise<JobOutcome>;
}

export interface ScheduleRequest {
  /** Runs in order; each is opened (its folder created) only when it is about to start. */
  readonly runs: readonly (() => Promise<ScheduledRun>)[];
  /** How many stages may run at once (default 1). */
  readonly jobs?: number;
  /** Open no further run once one failed (sweeps' --fail-fast). */
  readonly failFast?: boolean;
  /** Aborted to stop (Ctrl-C): running stages are asked to stop, and waited for. */
  readonly signal: AbortSignal;
  /**
   * Aborted to stop without waiting for running stages any longer (a second Ctrl-C);
   * their protected work is still awaited. Their code may then still be running when
   * `schedule` returns: the caller should end the process.
   */
  readonly hurry?: AbortSignal;
  /** Called as each run ends, with the index of its opener in `runs`. */
  onRunEnd?(index: number, run: ScheduledRun, result: ExecuteResult): Promise<void> | void;
  now?(): number;
}

type RunDecision = Extract<StageDecision, { kind: "run" }>;

interface Queued {
  readonly state: RunState;
  readonly stage: GraphStage;
  readonly decision: RunDecision;
}

/** What the scheduler knows of one open run. */
class RunState {
  readonly upstream = new Map<string, UpstreamState>();
  /** Decided, queued or running: not to be decided again. */
  readonly taken = new Set<string>();
  readonly running = new Set<string>();
  result: ExecuteResult = { status: "succeeded", stageId: null, message: null };
  ended = false;

  constructor(
    readonly index: number,
    readonly run: ScheduledRun,
    readonly startedAt: number,
  ) {}

  get stopped(): boolean {
    return this.result.status !== "succeeded";
  }

  stop(result: ExecuteResult): void {
    if (!this.stopped) this.result = result;
  }
}

/** Runs `request.runs`; returns each opened run's result, in order. */
export async function schedule(request: ScheduleRequest, launcher: StageLauncher): Promise<ExecuteResult[]> {
  const slots = Math.max(1, request.jobs ?? 1);
  const inOrder = slots === 1;
  const now = request.now ?? Date.now;
  const { signal } = request;
  const open: RunState[] = [];
  const results: ExecuteResult[] = [];
  const queue: Queued[] = [];
  /** Fingerprint key -> settles when the stage computing it ends. */
  const inFlight = new Map<string, Promise<unknown>>();
  const waits = new Set<Promise<unknown>>();
  let started = 0;
  let nextRun = 0;
  /** Counts stages settling in the background, so the loop never sleeps on news it already has. */
  let news = 0;

  const stopWatch = watchStopRequests(request, () => open.filter((s) => !s.ended));
  try {
    for (;;) {
      const seen = news;
      for (const state of open) if (!state.ended) await advance(state);
      startQueued();
      for (const state of open) if (!state.ended && state.running.size === 0 && settledAll(state)) await finish(state);
      const anyFailed = open.some((s) => s.ended && s.result.status === "failed");
      const idle = started < slots && queue.length === 0;
      const mayOpen = nextRun < request.runs.length && !signal.aborted && !(request.failFast && anyFailed);
      if (idle && mayOpen && (!inOrder || open.every((s) => s.ended))) {
        const index = nextRun++;
        const run = await request.runs[index]!();
        open.push(new RunState(index, run, now()));
        emitRunStart(run);
        continue;
      }
      if (news !== seen) continue;
      if (waits.size === 0) break;
      await Promise.race(waits);
    }
  } finally {
    stopWatch.dispose();
  }
  return results;

  function settledAll(state: RunState): boolean {
    return state.run.graph.stages.every((s) => state.upstream.has(s.id));
  }

  /** Decides every stage of `state` whose inputs have settled. */
  async function advance(state: RunState): Promise<void> {
    const { run } = state;
    for (const stage of run.graph.stages) {
      if (state.taken.has(stage.id)) {
        if (inOrder && !state.upstream.has(stage.id)) return;
        continue;
      }
      if (signal.aborted) state.stop({ status: "interrupted", stageId: null, message: "interrupted" });
      if (state.stopped) {
        state.taken.add(stage.id);
        await skip(state, stage.id, notRunBecause(state.result));
        continue;
      }
      if (!stage.inputs.every((i) => state.upstream.has(i.stage))) {
        if (inOrder) return;
        continue;
      }
      state.taken.add(stage.id);
      const decision = await decideStage(
        {
          graph: run.graph,
          stage,
          selected: run.selected.has(stage.id),
          forced: run.force === "all" || run.force.has(stage.id),
          upstream: (id) => state.upstream.get(id) ?? { kind: "unavailable", why: "did not run" },
        },
        run,
      );
      if (signal.aborted) {
        // Asked to stop while deciding, which digests dataset folders and can take a while.
        state.stop({ status: "interrupted", stageId: null, message: "interrupted" });
        await skip(state, stage.id, notRunBecause(state.result));
        continue;
      }
      if (decision.kind !== "run") {
        await carryOut(state, stage, decision);
        continue;
      }
      // Before anything runs: stop now if the results so far already doom a stage still to run.
      const stop = preflightStop(run.graph, run.selected, stage.id, run.runDir.stageMetrics());
      if (stop) {
        await recordPreflightStop(stop, run.graph, run.runDir, run.sink);
        for (const s of run.graph.stages) state.taken.add(s.id);
        state.stop({ status: "failed", stageId: stop.problems[0]?.stageIds[0] ?? stage.id, message: "preflight checks failed", preflight: stop });
        markSettledFrom(state, stage);
        return;
      }
      const computing = decision.forced ? undefined : inFlight.get(decision.key);
      if (computing) {
        // Another run computes this very result: decide again once it is in the store.
        const wait = computing.then(() => {
          state.taken.delete(stage.id);
          waits.delete(wait);
          news += 1;
        });
        waits.add(wait);
        if (inOrder) return;
        continue;
      }
      queue.push({ state, stage, decision });
      if (inOrder) return;
    }
  }

  function startQueued(): void {
    while (started < slots && queue.length > 0) {
      const next = queue.shift()!;
      if (signal.aborted) next.state.stop({ status: "interrupted", stageId: null, message: "interrupted" });
      if (next.state.stopped) {
        void skip(next.state, next.stage.id, notRunBecause(next.state.result));
        continue;
      }
      started += 1;
      const { state, stage, decision } = next;
      state.running.add(stage.id);
      const job = launcher
        .launch({
          run: state.run,
          stage,
          decision,
          inputDigest: (id) => {
            const input = state.upstream.get(id);
            if (input?.kind !== "ready") throw new Error(`internal error: stage ${stage.id} runs before its input stage ${id} is ready`);
            return input.artifactDigest;
          },
          signal,
          ...(request.hurry ? { hurry: request.hurry } : {}),
        })
        .catch((error: unknown): JobOutcome => ({ kind: "failed", message: error instanceof Error ? error.message : String(error) }))
        .then((outcome) => {
          started -= 1;
          state.running.delete(stage.id);
          waits.delete(job);
          inFlight.delete(decision.key);
          settle(state, stage.id, outcome);
          news += 1;
        });
      inFlight.set(decision.key, job);
      waits.add(job);
    }
  }

  function settle(state: RunState, stageId: string, outcome: JobOutcome): void {
    switch (outcome.kind) {
      case "done":
        state.upstream.set(stageId, { kind: "ready", artifactDigest: outcome.artifactDigest });
        return;
      case "failed":
        state.upstream.set(stageId, { kind: "unavailable", why: "failed" });
        state.stop({ status: "failed", stageId, message: outcome.message });
        return;
      case "interrupted":
        state.upstream.set(stageId, { kind: "unavailable", why: "was interrupted" });
        state.stop({ status: "interrupted", stageId, message: `interrupted during stage ${stageId}` });
        return;
      default:
        unreachable(outcome);
    }
  }

  /** Does what a decision other than `run` says. */
  async function carryOut(state: RunState, stage: GraphStage, decision: Exclude<StageDecision, RunDecision>): Promise<void> {
    const { run } = state;
    switch (decision.kind) {
      case "skip":
        await skip(state, stage.id, decision.reason);
        state.upstream.set(stage.id, { kind: "unavailable", why: decision.unavailable });
        return;
      case "blocked":
        await run.runDir.updateStage(stage.id, { status: "failed", reason: decision.reason, error: decision.message });
        run.sink.emit({ type: "stage-failed", id: stage.id, message: decision.message, logFile: null });
        state.upstream.set(stage.id, { kind: "unavailable", why: "cannot run" });
        state.stop({ status: "failed", stageId: stage.id, message: decision.message });
        return;
      case "reuse":
        await recordReuse(stage.id, decision.record, decision.reason, stageDepsOf(run));
        state.upstream.set(stage.id, { kind: "ready", artifactDigest: decision.record.artifactDigest });
        return;
      case "after-upstream":
        // Upstream stages have settled by the time a stage is decided here.
        throw new Error(`internal error: stage ${stage.id} decided before its upstream stages ran`);
      default:
        unreachable(decision);
    }
  }

  function stageDepsOf(run: ScheduledRun): StageRunDeps {
    return { store: run.store, runDir: run.runDir, sink: run.sink, signal, now };
  }

  /** After a preflight stop every stage from `from` on is recorded; later stages count as settled. */
  function markSettledFrom(state: RunState, from: GraphStage): void {
    const stages = state.run.graph.stages;
    for (const s of stages.slice(stages.indexOf(from))) if (!state.upstream.has(s.id)) state.upstream.set(s.id, { kind: "unavailable", why: "did not run" });
  }

  async function skip(state: RunState, id: string, reason: string): Promise<void> {
    state.upstream.set(id, { kind: "unavailable", why: "did not run" });
    await state.run.runDir.updateStage(id, { status: "skipped", reason });
    state.run.sink.emit({ type: "stage-skipped", id, reason });
  }

  async function finish(state: RunState): Promise<void> {
    state.ended = true;
    const { run } = state;
    await run.runDir.finish(state.result.status);
    run.sink.emit({ type: "run-end", runId: run.runDir.id, runDir: run.runDir.dir, status: state.result.status, durationMs: now() - state.startedAt });
    results[state.index] = state.result;
    await request.onRunEnd?.(state.index, run, state.result);
  }
}

/** One run, stage after stage in this process: what `mu-pipe run` did before `--jobs`. */
export async function execute(run: ScheduledRun, request: Omit<ScheduleRequest, "runs">, launcher: StageLauncher): Promise<ExecuteResult> {
  const [result] = await schedule({ ...request, runs: [() => Promise.resolve(run)] }, launcher);
  return result ?? { status: "interrupted", stageId: null, message: "interrupted" };
}

/** The `run-start` event of a run about to start (every stage, and which are selected). */
export function emitRunStart(run: ScheduledRun): void {
  run.sink.emit({
    type: "run-start",
    runId: run.runDir.id,
    runDir: run.runDir.dir,
    experiment: run.graph.experiment.name,
    stages: run.graph.stages.map((s) => ({ id: s.id, uses: s.type.name, selected: run.selected.has(s.id) })),
  });
}

function notRunBecause(stop: ExecuteResult): string {
  return stop.stageId ? `not run: the run stopped at ${stop.stageId}` : "not run: the run was interrupted";
}

/** Says at once that the runs are stopping (and later, hurrying), naming the stages they wait for. */
function watchStopRequests(request: ScheduleRequest, live: () => readonly RunState[]): { dispose(): void } {
  const say = (hurry: boolean) => (): void => {
    for (const state of live()) {
      const running = [...state.running];
      if (running.length === 0) state.run.sink.emit({ type: "run-stopping", stageId: null, hurry });
      for (const stageId of running) state.run.sink.emit({ type: "run-stopping", stageId, hurry });
    }
  };
  const onStop = say(false);
  const onHurry = say(true);
  request.signal.addEventListener("abort", onStop, { once: true });
  request.hurry?.addEventListener("abort", onHurry, { once: true });
  return {
    dispose() {
      request.signal.removeEventListener("abort", onStop);
      request.hurry?.removeEventListener("abort", onHurry);
    },
  };
}
