/** Every built-in stage type. Modules here stay cheap to import (heavy code loads inside `run`). */
import { makeRegistry, type StageRegistry } from "../pipeline/registry.js";
import type { StageType } from "../pipeline/stage.js";
import { augmentStage } from "./data/augment.js";
import { flipAugmentStage } from "./data/flip-augment.js";
import { loadStage } from "./data/load.js";
import { mergeStage } from "./data/merge.js";
import { resizeStage } from "./data/resize.js";
import { evaluateStage } from "./eval/evaluate.js";
import { exportStage } from "./export/export-stage.js";
import { predictStage } from "./predict/predict.js";
import { thresholdStage } from "./predict/threshold.js";
import { RUNTIME_CHOICES } from "./runtime/backend-names.js";
import { finetuneStage } from "./train/finetune.js";

export const builtinStageTypes: readonly StageType[] = [
  loadStage,
  mergeStage,
  flipAugmentStage,
  augmentStage,
  resizeStage,
  finetuneStage,
  thresholdStage,
  predictStage,
  evaluateStage,
  exportStage,
];

/** The built-in stage types (and `extra` ones, e.g. plugins') with the runtime's backend choices. */
export function builtinRegistry(extra: readonly StageType[] = []): StageRegistry {
  return makeRegistry([...builtinStageTypes, ...extra], RUNTIME_CHOICES);
}
