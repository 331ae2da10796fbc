/**
 * `threshold`: predicts a split (the training images by default, as the seed README
 * does), pools every pixel into two 256-bin histograms, sweeps thresholds on a grid and
 * keeps the one of best pooled F1. `where` narrows the pool to items with given
 * attribute values; `tta` sweeps flip-averaged maps (recorded, so predict follows it).
 * Besides the record and the curves it writes `model`,
 * a copy of the model folder with the threshold in its metadata: downstream `predict`
 * and `mu-pipe predict` take that one folder.
 *
 * This module only declares the stage; TensorFlow loads inside `run`.
 */
import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import { THRESHOLD_OUTPUTS, thresholdParamsSchema, type ThresholdParams } from "./threshold-params.js";
import { emptySplitProblem, itemCount, readDatasetFacts } from "../data/dataset-facts.js";
import { whereProblems } from "./item-where.js";

export const thresholdStage = defineStageType<ThresholdParams>({
  name: "threshold",
  version: 2,
  description: "Sweeps binarisation thresholds over a split's pooled pixels and keeps the one of best F1",
  paramsSchema: thresholdParamsSchema,
  inputs: {
    model: { description: "A model folder: a finetune stage's `best`" },
    tensors: { description: "The `tensors` output of a resize stage" },
  },
  outputs: {
    [THRESHOLD_OUTPUTS.threshold]: { description: "{ version, threshold, f1, precision, recall, split, images } (and where, tta when set)" },
    [THRESHOLD_OUTPUTS.curve]: { description: "threshold, precision, recall, f1 at every threshold tried" },
    [THRESHOLD_OUTPUTS.pr]: { description: "The precision-recall curve (recall, precision), one point per 8-bit level" },
    [THRESHOLD_OUTPUTS.model]: { description: "The input model folder with the chosen threshold in its mu-model.json" },
  },
  usesBackend: true,
  preflight({ stageId, params, inputs }) {
    const d = readDatasetFacts(inputs["tensors"]);
    if (d === null) return [];
    if (itemCount(d, params.split, params.include_augmented) === 0) {
      return [emptySplitProblem(d, params.split, `the threshold is swept over the ${params.split} split's pixels`, [`or sweep another split: stages.${stageId}.params.split`])];
    }
    return params.where === undefined ? [] : whereProblems(d, params.where, params.split, stageId);
  },
  async run(ctx: StageContext<ThresholdParams>) {
    const { runThreshold } = await import("./run-threshold.js");
    return runThreshold(ctx);
  },
  async report(ctx) {
    const { thresholdReport } = await import("./threshold-report.js");
    return thresholdReport(ctx);
  },
});
