/**
 * Which model folder of a run to export. A run dir links each stage's output as
 * `artifacts/<stageId>`; a finetune stage's output holds `best/` and `last/` model folders,
 * a threshold stage's may hold `model/` (the best model with the swept threshold in its
 * metadata).
 */
import { existsSync } from "node:fs";
import path from "node:path";

import type { StageRunEntry } from "../../pipeline/formats.js";
import { METADATA_JSON } from "../model/model-files.js";
import { RESIZE_OUTPUTS } from "../data/resize-params.js";
import { TENSOR_MANIFEST_FILE } from "../data/tensor-shards.js";
import { FINETUNE_OUTPUTS } from "../train/finetune-params.js";
import { ExportError } from "./export-error.js";

/** `best`: the threshold stage's model if there is one, else the finetune's best; `last`: the final epoch's. */
export const MODEL_CHOICES = ["best", "last"] as const;
export type ModelChoice = (typeof MODEL_CHOICES)[number];

export const FINETUNE_STAGE_TYPE = "finetune";
export const THRESHOLD_STAGE_TYPE = "threshold";
/** The threshold stage's output folder holding the model with its threshold. */
export const THRESHOLD_MODEL_OUTPUT = "model";

export interface RunModel {
  /** Absolute path of the model folder. */
  readonly dir: string;
  /** Where it came from, for people: e.g. `stage finetune2, best model`. */
  readonly description: string;
}

function isDone(stage: StageRunEntry): boolean {
  return stage.status === "succeeded" || stage.status === "reused";
}

function hasModel(dir: string): boolean {
  return existsSync(path.join(dir, METADATA_JSON));
}

/** The model folder of `runDir` that `choice` means; throws ExportError `no-model-in-run` naming what is missing. */
export function modelInRun(runDir: string, stages: readonly StageRunEntry[], choice: ModelChoice): RunModel {
  const artifact = (stageId: string, output: string): string => path.join(runDir, "artifacts", stageId, output);
  const noModel = (detail: string): never => {
    throw new ExportError({ kind: "no-model-in-run", runDir, detail });
  };

  if (choice === "best") {
    const threshold = stages.filter((s) => s.uses === THRESHOLD_STAGE_TYPE && isDone(s)).at(-1);
    if (threshold !== undefined) {
      const dir = artifact(threshold.id, THRESHOLD_MODEL_OUTPUT);
      if (hasModel(dir)) return { dir, description: `stage ${threshold.id}, the best model with its threshold` };
    }
  }
  const finetunes = stages.filter((s) => s.uses === FINETUNE_STAGE_TYPE);
  const finetune = finetunes.filter(isDone).at(-1);
  if (finetune === undefined) {
    const listed = stages.map((s) => `${s.id} (${s.uses}, ${s.status})`).join(", ");
    return noModel(
      finetunes.length > 0
        ? `no finetune stage finished, so the run has no trained model (stages: ${listed})`
        : `the run has no finetune stage, so no trained model (stages: ${listed || "none"})`,
    );
  }
  const output = choice === "best" ? FINETUNE_OUTPUTS.best : FINETUNE_OUTPUTS.last;
  const dir = artifact(finetune.id, output);
  if (!hasModel(dir)) {
    return noModel(`stage ${finetune.id} finished, but ${path.relative(runDir, dir)}/${METADATA_JSON} is missing (was the store garbage-collected? \`mu-pipe run\` rebuilds it)`);
  }
  return { dir, description: `stage ${finetune.id}, ${output} model` };
}

export const RESIZE_STAGE_TYPE = "resize";

/** The tensors (test split, training images) of `runDir`'s last finished resize stage, or null. */
export function tensorsInRun(runDir: string, stages: readonly StageRunEntry[]): string | null {
  const resize = stages.filter((s) => s.uses === RESIZE_STAGE_TYPE && isDone(s)).at(-1);
  if (resize === undefined) return null;
  const dir = path.join(runDir, "artifacts", resize.id, RESIZE_OUTPUTS.tensors);
  return existsSync(path.join(dir, TENSOR_MANIFEST_FILE)) ? dir : null;
}
