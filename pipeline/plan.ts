/**
 * What `run` would do, without running anything: for `status` and `run --dry-run`.
 * A stage downstream of one that will run cannot be fingerprinted yet (its inputs do
 * not exist), so it is reported as running because of that upstream stage.
 */
import { explainFingerprintChange, fingerprintKey } from "./fingerprint.js";
import type { Fingerprint } from "./formats.js";
import type { StageGraph } from "./graph.js";
import { fingerprintInGraph } from "./stage-fingerprint.js";
import type { ArtifactStore } from "./store/artifact-store.js";

export type PlannedAction = "reuse" | "run" | "skip" | "blocked";

export interface StagePlan {
  readonly id: string;
  readonly uses: string;
  readonly action: PlannedAction;
  readonly reasons: readonly string[];
  readonly fingerprintKey: string | null;
}

export interface PlanDeps {
  readonly store: ArtifactStore;
  digestExternal(absPath: string): Promise<string>;
  previousFingerprint(stageId: string): Promise<Fingerprint | null>;
}

export async function planRun(
  graph: StageGraph,
  selected: ReadonlySet<string>,
  force: ReadonlySet<string> | "all",
  deps: PlanDeps,
): Promise<StagePlan[]> {
  const plans = new Map<string, StagePlan>();
  const digests = new Map<string, string>();

  for (const stage of graph.stages) {
    const base = { id: stage.id, uses: stage.type.name };
    const isSelected = selected.has(stage.id);
    const pending = stage.inputs.filter((i) => {
      const action = plans.get(i.stage)?.action;
      return action !== "reuse";
    });
    if (pending.length > 0) {
      const upstream = [...new Set(pending.map((i) => i.stage))];
      const willRun = upstream.filter((id) => plans.get(id)?.action === "run");
      if (isSelected && willRun.length === upstream.length) {
        plans.set(stage.id, { ...base, action: "run", reasons: upstream.map((id) => `upstream ${id} will run`), fingerprintKey: null });
      } else if (isSelected) {
        const missing = upstream.filter((id) => !willRun.includes(id));
        plans.set(stage.id, { ...base, action: "blocked", reasons: missing.map((id) => `needs ${id}, which is not selected and not cached`), fingerprintKey: null });
      } else {
        plans.set(stage.id, { ...base, action: "skip", reasons: ["not selected"], fingerprintKey: null });
      }
      continue;
    }

    const fingerprint = await fingerprintInGraph(graph, stage, digests, deps.digestExternal);
    const key = fingerprintKey(fingerprint);
    const cached = await deps.store.lookup(key);
    const forced = force === "all" || force.has(stage.id);
    if (cached && !(isSelected && forced)) {
      digests.set(stage.id, cached.artifactDigest);
      plans.set(stage.id, { ...base, action: "reuse", reasons: [isSelected ? "fingerprint matches a cached result" : "not selected; cached result used"], fingerprintKey: key });
    } else if (!isSelected) {
      plans.set(stage.id, { ...base, action: "skip", reasons: ["not selected"], fingerprintKey: key });
    } else {
      const reasons = forced ? ["forced"] : explainFingerprintChange(await deps.previousFingerprint(stage.id), fingerprint);
      plans.set(stage.id, { ...base, action: "run", reasons: reasons.length > 0 ? reasons : ["no cached result for this fingerprint"], fingerprintKey: key });
    }
  }
  return graph.stages.map((s) => plans.get(s.id)).filter((p): p is StagePlan => p !== undefined);
}
