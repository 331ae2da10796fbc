/**
 * Asks each finished stage of a run for its report sections (the stage type's optional
 * `report` hook), pointing it at the stage's outputs and inputs through the run's
 * `artifacts/<stage>` links. A hook that throws gives a note, never a failed report.
 */
import { stat } from "node:fs/promises";
import path from "node:path";

import { parseInputRef } from "../../pipeline/config/load-experiment.js";
import type { StageRunEntry } from "../../pipeline/formats.js";
import type { StageRegistry } from "../../pipeline/registry.js";
import type { ReportSection } from "../../pipeline/report-section.js";
import type { StageReportContext } from "../../pipeline/stage.js";
import type { RunSummary } from "../run-lookup.js";

export interface StageSections {
  readonly stageId: string;
  readonly uses: string;
  readonly sections: readonly ReportSection[];
}

/** Statuses under which the run folder links the stage's artifact. */
const HAS_ARTIFACT: ReadonlySet<string> = new Set(["succeeded", "reused"]);

/** `config` is the run's parsed config.yaml (for the stages' inputs), or null. In run order. */
export async function collectStageSections(run: RunSummary, config: unknown, registry: StageRegistry): Promise<StageSections[]> {
  const stages = run.record?.stages ?? [];
  const result: StageSections[] = [];
  for (const stage of stages) {
    const type = registry.get(stage.uses);
    if (!type?.report || !HAS_ARTIFACT.has(stage.status)) continue;
    const outputs = await existingOutputs(run.dir, stage.id, Object.keys(type.outputs));
    if (Object.keys(outputs).length === 0) continue; // e.g. the store entry was collected
    const ctx: StageReportContext = {
      stageId: stage.id,
      outputs,
      inputs: await stageInputs(run.dir, stage.id, config, stages, registry),
      metrics: run.metrics?.stages[stage.id] ?? {},
    };
    let sections: readonly ReportSection[];
    try {
      sections = await type.report(ctx);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      sections = [{ title: "Report section unavailable", blocks: [{ kind: "note", text: `The ${stage.uses} stage's report section could not be built: ${message}` }] }];
    }
    if (sections.length > 0) result.push({ stageId: stage.id, uses: stage.uses, sections });
  }
  return result;
}

async function existingOutputs(runDir: string, stageId: string, names: readonly string[]): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {};
  for (const name of names) {
    const file = path.join(runDir, "artifacts", stageId, name);
    if (await exists(file)) outputs[name] = file;
  }
  return outputs;
}

/** Input name -> the upstream output in this run's artifacts, from `stages.<id>.inputs` of the config. */
async function stageInputs(
  runDir: string,
  stageId: string,
  config: unknown,
  stages: readonly StageRunEntry[],
  registry: StageRegistry,
): Promise<Record<string, string>> {
  const declared = inputsOf(config, stageId);
  const inputs: Record<string, string> = {};
  for (const [name, text] of Object.entries(declared)) {
    const ref = parseInputRef(text);
    const upstream = stages.find((s) => s.id === ref.stage);
    const outputs = upstream ? Object.keys(registry.get(upstream.uses)?.outputs ?? {}) : [];
    const output = ref.output ?? (outputs.length === 1 ? outputs[0] : undefined);
    if (output === undefined) continue;
    const file = path.join(runDir, "artifacts", ref.stage, output);
    if (await exists(file)) inputs[name] = file;
  }
  return inputs;
}

function inputsOf(config: unknown, stageId: string): Record<string, string> {
  const stages = (config as { stages?: Record<string, { inputs?: unknown }> } | null)?.stages;
  const inputs = stages?.[stageId]?.inputs;
  if (inputs === null || typeof inputs !== "object") return {};
  return Object.fromEntries(Object.entries(inputs as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
