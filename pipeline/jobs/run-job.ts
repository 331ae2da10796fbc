/**
 * The worker side of a stage run in a process of its own: rebuilds the graph from the
 * job file, decides the stage afresh from the store (its inputs were computed by
 * earlier jobs, so every stage it reads must be cached now), runs it, and reports
 * everything as job messages. A Slurm job submitted before its inputs existed learns
 * their digests here.
 */
import type { EventSink } from "../events.js";
import { buildGraph } from "../graph.js";
import type { StageRegistry } from "../registry.js";
import type { RunRecorder } from "../run-recorder.js";
import { recordReuse, runStage, type StageRunDeps } from "../run-stage.js";
import { decideStage, upstreamStateOf, type UpstreamState } from "../stage-decision.js";
import { ancestorsOf, buildStageJob } from "../stage-job.js";
import type { ArtifactStore } from "../store/artifact-store.js";
import { encodeJobMessage, type JobMessage, type JobOutcome } from "./job-messages.js";
import { experimentOf, type StageJobSpec } from "./job-spec.js";

export interface RunJobDeps {
  readonly registry: StageRegistry;
  readonly store: ArtifactStore;
  digestExternal(absPath: string): Promise<string>;
  /** Where job messages go (the worker's standard output). */
  write(text: string): void;
  /** At most one progress message per stage this often (a Slurm job's output is a file on a shared file system); default: all. */
  readonly progressEveryMs?: number;
  readonly signal: AbortSignal;
  readonly hurry?: AbortSignal;
  now?(): number;
}

export async function runJob(spec: StageJobSpec, deps: RunJobDeps): Promise<JobOutcome> {
  const send = (message: JobMessage): void => deps.write(encodeJobMessage(message));
  const outcome = await decideAndRun(spec, deps, send);
  send({ type: "outcome", outcome });
  return outcome;
}

async function decideAndRun(spec: StageJobSpec, deps: RunJobDeps, send: (message: JobMessage) => void): Promise<JobOutcome> {
  const graph = buildGraph(experimentOf(spec), deps.registry);
  const stage = graph.byId.get(spec.stageId);
  if (!stage) return { kind: "failed", message: `the experiment has no stage ${spec.stageId}` };
  const recorder = forwardingRecorder(spec, send);
  const sink: EventSink = { emit: (event) => send({ type: "event", event }) };
  const decisionDeps = { store: deps.store, digestExternal: deps.digestExternal, previousFingerprint: () => Promise.resolve(null) };

  // Every stage it reads from must be in the store by now: decided as "not selected", a
  // missing one makes this stage blocked with the usual message.
  const upstream = new Map<string, UpstreamState>();
  const stateOf = (id: string): UpstreamState => upstream.get(id) ?? { kind: "unavailable", why: "is not in the experiment" };
  for (const before of ancestorsOf(graph, stage.id)) {
    const decision = await decideStage({ graph, stage: before, selected: false, forced: false, upstream: stateOf }, decisionDeps);
    upstream.set(before.id, upstreamStateOf(decision));
  }
  const decision = await decideStage({ graph, stage, selected: true, forced: spec.forced, upstream: stateOf }, decisionDeps);
  const now = deps.now ?? Date.now;
  const stageDeps: StageRunDeps = {
    store: deps.store,
    runDir: recorder,
    sink,
    signal: deps.signal,
    ...(deps.hurry ? { hurry: deps.hurry } : {}),
    ...(deps.progressEveryMs ? { progressIntervalMs: deps.progressEveryMs } : {}),
    now,
  };
  switch (decision.kind) {
    case "reuse":
      await recordReuse(stage.id, decision.record, "computed meanwhile by another mu-pipe process", stageDeps);
      return { kind: "done", key: decision.key, artifactDigest: decision.record.artifactDigest };
    case "run": {
      const ready = (id: string): string => {
        const state = upstream.get(id);
        if (state?.kind !== "ready") throw new Error(`internal error: input stage ${id} of ${stage.id} is not ready`);
        return state.artifactDigest;
      };
      const job = await buildStageJob(graph, stage, { ...decision, reasons: spec.reason ? [spec.reason] : decision.reasons }, ready, deps.store, graph.experiment.settings.runtime);
      const outcome = await runStage(job, stageDeps);
      if (outcome.kind === "done") return { kind: "done", key: decision.key, artifactDigest: outcome.record.artifactDigest };
      return outcome;
    }
    case "blocked":
    case "skip": {
      const message = decision.kind === "blocked" ? decision.message : decision.reason;
      await recorder.updateStage(stage.id, { status: "failed", reason: message, error: message });
      sink.emit({ type: "stage-failed", id: stage.id, message, logFile: null });
      return { kind: "failed", message };
    }
    case "after-upstream":
      return { kind: "failed", message: "internal error: a worker's stage was decided before its inputs" };
  }
}

function forwardingRecorder(spec: StageJobSpec, send: (message: JobMessage) => void): RunRecorder {
  return {
    logFile: (stageId) => `${spec.runDir}/logs/${stageId}.log`,
    updateStage: (stageId, change) => Promise.resolve(send({ type: "record", stageId, change })),
    setMetrics: (stageId, metrics) => Promise.resolve(send({ type: "metrics", stageId, metrics })),
    linkArtifact: (stageId, _dir, artifactDigest) => Promise.resolve(send({ type: "link", stageId, artifactDigest })),
  };
}

