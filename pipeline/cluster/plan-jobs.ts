/**
 * Which stages of a set of runs become cluster jobs, and which jobs each waits for.
 *
 * Each run's stages are decided in graph order by `decideStage`, as `run` does. A stage
 * that will run cannot know its inputs' digests yet, so later stages are decided
 * against stand-ins (`planned:<key>`): a stage downstream of one that runs also runs,
 * and gets a planned key that is the same in every run with the same type, params, seed
 * and upstream work. Work with the same key is one job, submitted once; the runs that
 * share it wait for it. Reused, skipped and blocked stages are recorded at once.
 */
import type { ExecuteResult, ScheduledRun } from "../executor.js";
import type { GraphStage } from "../graph.js";
import { recordReuse } from "../run-stage.js";
import { decideStage, type UpstreamState } from "../stage-decision.js";
import { fingerprintKey } from "../fingerprint.js";
import { fingerprintInGraph } from "../stage-fingerprint.js";

/** One job to submit (or attach to): a stage of its first run, needed by every run in `users`. */
export interface ClusterUnit {
  /** The work's identity (see `workIdentity`). */
  readonly planKey: string;
  readonly stage: GraphStage;
  /** The run that submits it first; the others reuse what it computes. */
  readonly owner: ScheduledRun;
  readonly users: ScheduledRun[];
  readonly forced: boolean;
  readonly reason: string;
  /** Units computing its inputs, which it depends on. */
  readonly inputs: readonly ClusterUnit[];
}

export interface PlannedRun {
  readonly run: ScheduledRun;
  /** Stage id -> the unit computing it, for the stages that run. */
  readonly units: ReadonlyMap<string, ClusterUnit>;
  /** Set when a stage cannot run (its reason recorded): nothing of this run is submitted after it. */
  readonly stop: ExecuteResult | null;
}

const PLANNED = "planned:";

/**
 * What a stage computes, whatever is cached: its fingerprint with each input's digest
 * replaced by the identity of the stage feeding it. The same in every run, sweep
 * combination and later invocation that asks for the same work, so a job submitted
 * for it is found again (`ClusterUnit.planKey`).
 */
async function workIdentity(run: ScheduledRun, stage: GraphStage, identities: ReadonlyMap<string, string>): Promise<string> {
  const stand = new Map(stage.inputs.map((i) => [i.stage, `${PLANNED}${identities.get(i.stage) ?? i.stage}`]));
  try {
    return fingerprintKey(await fingerprintInGraph(run.graph, stage, stand, run.digestExternal));
  } catch {
    return `${PLANNED}${stage.id}`; // unreadable inputs: the stage is blocked and never submitted
  }
}

export async function planJobs(runs: readonly ScheduledRun[]): Promise<{ runs: PlannedRun[]; units: ClusterUnit[] }> {
  const byKey = new Map<string, ClusterUnit>();
  const units: ClusterUnit[] = [];
  const planned: PlannedRun[] = [];
  for (const run of runs) {
    const upstream = new Map<string, UpstreamState>();
    const mine = new Map<string, ClusterUnit>();
    let stop: ExecuteResult | null = null;
    const identities = new Map<string, string>();
    for (const stage of run.graph.stages) {
      identities.set(stage.id, await workIdentity(run, stage, identities));
      if (stop) {
        await run.runDir.updateStage(stage.id, { status: "skipped", reason: `not run: the run stopped at ${stop.stageId ?? "?"}` });
        upstream.set(stage.id, { kind: "unavailable", why: "did not run" });
        continue;
      }
      const forced = run.force === "all" || run.force.has(stage.id);
      const decision = await decideStage(
        { graph: run.graph, stage, selected: run.selected.has(stage.id), forced, upstream: (id) => upstream.get(id) ?? { kind: "unavailable", why: "did not run" } },
        run,
      );
      switch (decision.kind) {
        case "reuse":
          await recordReuse(stage.id, decision.record, decision.reason, { store: run.store, runDir: run.runDir, sink: run.sink });
          upstream.set(stage.id, { kind: "ready", artifactDigest: decision.record.artifactDigest });
          break;
        case "skip":
          await run.runDir.updateStage(stage.id, { status: "skipped", reason: decision.reason });
          run.sink.emit({ type: "stage-skipped", id: stage.id, reason: decision.reason });
          upstream.set(stage.id, { kind: "unavailable", why: decision.unavailable });
          break;
        case "blocked":
          await run.runDir.updateStage(stage.id, { status: "failed", reason: decision.reason, error: decision.message });
          run.sink.emit({ type: "stage-failed", id: stage.id, message: decision.message, logFile: null });
          upstream.set(stage.id, { kind: "unavailable", why: "cannot run" });
          stop = { status: "failed", stageId: stage.id, message: decision.message };
          break;
        case "after-upstream":
          throw new Error(`internal error: stage ${stage.id} was decided without its inputs' planned keys`);
        case "run": {
          const inputs = [...new Set(stage.inputs.map((i) => i.stage))].flatMap((id) => {
            const unit = mine.get(id);
            return unit ? [unit] : [];
          });
          const reason = inputs.length > 0 ? inputs.map((u) => `upstream ${u.stage.id} will run`).join("; ") : decision.reasons.join("; ");
          const planKey = identities.get(stage.id) ?? decision.key;
          let unit = byKey.get(planKey);
          if (unit) {
            unit.users.push(run);
          } else {
            unit = { planKey, stage, owner: run, users: [run], forced, reason, inputs };
            byKey.set(planKey, unit);
            units.push(unit);
          }
          mine.set(stage.id, unit);
          await run.runDir.updateStage(stage.id, { status: "pending", reason });
          upstream.set(stage.id, { kind: "ready", artifactDigest: `${PLANNED}${decision.key}` });
          break;
        }
      }
    }
    planned.push({ run, units: mine, stop });
  }
  return { runs: planned, units };
}
