/**
 * What `run` would do, without running anything: for `status` and `run --dry-run`.
 * Each stage is decided by the same `decideStage` that `run` uses. A stage downstream
 * of one that will run cannot be fingerprinted yet (its inputs do not exist), so it is
 * reported as running because of that upstream stage.
 */
import { unreachable } from "./failure.js";
import type { StageGraph } from "./graph.js";
import { decideStage, upstreamStateOf, type DecisionDeps, type StageDecision, type UpstreamState } from "./stage-decision.js";

export type PlannedAction = "reuse" | "run" | "skip" | "blocked";

export interface StagePlan {
  readonly id: string;
  readonly uses: string;
  readonly action: PlannedAction;
  readonly reasons: readonly string[];
  readonly fingerprintKey: string | null;
  /** For a stage that will run: what an interrupted attempt left to resume from, e.g. `epoch 3 of 30`. */
  readonly resume: string | null;
}

export type PlanDeps = DecisionDeps;

export async function planRun(graph: StageGraph, selected: ReadonlySet<string>, force: ReadonlySet<string> | "all", deps: PlanDeps): Promise<StagePlan[]> {
  const upstream = new Map<string, UpstreamState>();
  const plans: StagePlan[] = [];
  for (const stage of graph.stages) {
    const decision = await decideStage(
      {
        graph,
        stage,
        selected: selected.has(stage.id),
        forced: force === "all" || force.has(stage.id),
        upstream: (id) => upstream.get(id) ?? { kind: "unavailable", why: "is not in the experiment" },
      },
      deps,
    );
    upstream.set(stage.id, upstreamStateOf(decision));
    plans.push({ id: stage.id, uses: stage.type.name, ...planned(decision) });
  }
  return plans;
}

function planned(decision: StageDecision): Pick<StagePlan, "action" | "reasons" | "fingerprintKey" | "resume"> {
  switch (decision.kind) {
    case "reuse":
      return { action: "reuse", reasons: [decision.reason], fingerprintKey: decision.key, resume: null };
    case "run":
      return { action: "run", reasons: decision.reasons, fingerprintKey: decision.key, resume: decision.resume };
    case "after-upstream":
      return { action: "run", reasons: decision.reasons, fingerprintKey: null, resume: null };
    case "skip":
      return { action: "skip", reasons: [decision.reason], fingerprintKey: decision.key, resume: null };
    case "blocked":
      return { action: "blocked", reasons: [decision.message], fingerprintKey: null, resume: null };
    default:
      return unreachable(decision);
  }
}
