/**
 * What a sweep would do, for `status` and `run --dry-run`: each combination's plan,
 * where a stage that an earlier combination will compute (same type, params, seed and
 * upstream) shows as reused from it, the way the store will make it at run time.
 */
import { fingerprintKey } from "../pipeline/fingerprint.js";
import { buildGraph, selectStages, type Selection } from "../pipeline/graph.js";
import { planRun, type StagePlan } from "../pipeline/plan.js";
import type { StageRegistry } from "../pipeline/registry.js";
import { previousFingerprints } from "../pipeline/run-history.js";
import { fingerprintInGraph } from "../pipeline/stage-fingerprint.js";
import type { LoadedSweep } from "../pipeline/sweep/load-sweep.js";
import type { StoreSession } from "./store-session.js";

export interface CombinationPlan {
  readonly label: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly plans: readonly StagePlan[];
}

export async function planSweep(
  sweep: LoadedSweep,
  registry: StageRegistry,
  selection: Selection,
  force: ReadonlySet<string> | "all",
  openStore: (storeDir: string) => Promise<StoreSession>,
): Promise<CombinationPlan[]> {
  /** A stage's would-be fingerprint key -> the combination that computes it first. */
  const computedBy = new Map<string, string>();
  const result: CombinationPlan[] = [];
  for (const run of sweep.runs) {
    const graph = buildGraph(run.config, registry);
    const selected = selectStages(graph, selection);
    const { store, digestExternal } = await openStore(run.config.settings.storeDir);
    const previous = previousFingerprints(run.config.settings.runsDir, run.config.name, store, null);
    const plans = await planRun(graph, selected, force, { store, digestExternal, previousFingerprint: previous });
    // Stand-ins for the digests of artifacts not made yet: the key that will make them.
    const digests = new Map<string, string>();
    const adjusted: StagePlan[] = [];
    for (const [index, plan] of plans.entries()) {
      const stage = graph.stages[index];
      if (!stage || (plan.action !== "run" && plan.action !== "reuse")) {
        adjusted.push(plan);
        continue;
      }
      const key = plan.fingerprintKey ?? fingerprintKey(await fingerprintInGraph(graph, stage, digests, digestExternal));
      if (plan.action === "reuse") {
        digests.set(stage.id, (await store.lookup(key))?.artifactDigest ?? `planned:${key}`);
        adjusted.push(plan);
        continue;
      }
      digests.set(stage.id, `planned:${key}`);
      const earlier = computedBy.get(key);
      if (earlier !== undefined && !(force === "all" || force.has(stage.id))) {
        adjusted.push({ ...plan, action: "reuse", reasons: [`computed by [${earlier}] earlier in this sweep`] });
      } else {
        computedBy.set(key, run.label);
        adjusted.push(plan);
      }
    }
    result.push({ label: run.label, values: run.values, plans: adjusted });
  }
  return result;
}
