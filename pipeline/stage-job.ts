/**
 * A decided stage as a `StageJob`: the explicit inputs `runStage` needs. Shared by the
 * in-process executor and a worker process, so both run a stage from the same facts.
 */
import path from "node:path";
import type { GraphStage, StageGraph } from "./graph.js";
import type { StageJob } from "./run-stage.js";
import type { StageDecision } from "./stage-decision.js";
import type { RuntimeSettings } from "./stage.js";
import type { ArtifactStore } from "./store/artifact-store.js";

export async function buildStageJob(
  graph: StageGraph,
  stage: GraphStage,
  decision: Extract<StageDecision, { kind: "run" }>,
  inputDigest: (stageId: string) => string,
  store: ArtifactStore,
  runtime: RuntimeSettings = graph.experiment.settings.runtime,
): Promise<StageJob> {
  const { settings, name, baseDir } = graph.experiment;
  const inputs = await Promise.all(stage.inputs.map(async (i) => [i.name, path.join(await store.materialize(inputDigest(i.stage)), i.output)] as const));
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
    runtime,
  };
}

/** The stages `stageId` reads from, directly or not, in graph order. */
export function ancestorsOf(graph: StageGraph, stageId: string): GraphStage[] {
  const wanted = new Set<string>();
  const visit = (id: string): void => {
    for (const input of graph.byId.get(id)?.inputs ?? []) {
      if (!wanted.has(input.stage)) {
        wanted.add(input.stage);
        visit(input.stage);
      }
    }
  };
  visit(stageId);
  return graph.stages.filter((s) => wanted.has(s.id));
}
