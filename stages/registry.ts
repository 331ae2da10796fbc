/** Every built-in stage type. Modules here stay cheap to import (heavy code loads inside `run`). */
import type { StageType } from "../pipeline/stage.js";
import { flipAugmentStage } from "./data/flip-augment.js";
import { loadStage } from "./data/load.js";
import { resizeStage } from "./data/resize.js";
import { evaluateStage } from "./eval/evaluate.js";
import { predictStage } from "./predict/predict.js";
import { thresholdStage } from "./predict/threshold.js";
import { finetuneStage } from "./train/finetune.js";

export const builtinStageTypes: readonly StageType[] = [loadStage, flipAugmentStage, resizeStage, finetuneStage, thresholdStage, predictStage, evaluateStage];
