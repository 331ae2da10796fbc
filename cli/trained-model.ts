/**
 * "Has a trained model": the requirement `predict` and `export` pass to the run
 * resolver, so `latest` means the newest run that has one (the engine itself knows
 * nothing of models). A run has one when `modelInRun` finds its model folder.
 */
import type { StageRunEntry } from "../pipeline/formats.js";
import { ExportError } from "../stages/export/export-error.js";
import { FINETUNE_STAGE_TYPE, modelInRun, type ModelChoice } from "../stages/export/model-in-run.js";
import type { RunRequirement, RunSummary } from "./run-lookup.js";

/** `otherwise` ends the message when no run has a model, e.g. "pass --model <model folder>". */
export function trainedModelRequirement(otherwise: string, choice: ModelChoice = "best"): RunRequirement {
  return {
    what: "a trained model",
    otherwise,
    check(run: RunSummary): string | null {
      if (run.record === null) return run.problem ?? "run.json is unreadable";
      try {
        modelInRun(run.dir, run.record.stages, choice);
        return null;
      } catch (error) {
        if (error instanceof ExportError && error.problem.kind === "no-model-in-run") return shortReason(run.record.stages, error.problem.detail);
        throw error;
      }
    },
  };
}

/** modelInRun's detail repeats "no trained model"; the resolver's message already says it. */
function shortReason(stages: readonly StageRunEntry[], detail: string): string {
  const finetunes = stages.filter((s) => s.uses === FINETUNE_STAGE_TYPE);
  const listed = `stages: ${stages.map((s) => `${s.id} (${s.uses}, ${s.status})`).join(", ") || "none"}`;
  if (finetunes.length === 0) return `it has no finetune stage; ${listed}`;
  if (!finetunes.some((s) => s.status === "succeeded" || s.status === "reused")) return `no finetune stage of it finished; ${listed}`;
  return detail;
}
