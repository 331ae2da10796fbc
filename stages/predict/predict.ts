/**
 * `predict`: probability maps and binarised masks for a tensors split (test by
 * default) and/or a folder of images, each mapped back to its image's original size
 * and written in the SSBC submission layout (see submission.ts). The threshold is, in
 * order: `params.threshold`, the `threshold` input, the model's own (a threshold
 * stage's `model` carries one), else 0.5 (logged). The maps get the test-time
 * augmentation of `params.tta`, else the one that threshold was chosen with.
 *
 * This module only declares the stage; TensorFlow and sharp load inside `run`.
 */
import path from "node:path";

import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import { PREDICT_OUTPUTS, predictParamsSchema, type PredictParams } from "./predict-params.js";
import { emptySplitProblem, readDatasetFacts } from "../data/dataset-facts.js";

export const predictStage = defineStageType<PredictParams>({
  name: "predict",
  version: 2,
  description: "Predicts a split or a folder of images into the SSBC submission layout (Predictions/, Binarised/, GroundTruth/)",
  paramsSchema: predictParamsSchema,
  inputs: {
    model: { description: "A model folder: a threshold stage's `model` (carries its threshold) or a finetune stage's `best`" },
    threshold: { description: "A threshold stage's `threshold.json`; overrides the model's threshold", optional: true },
    tensors: { description: "The `tensors` output of a resize stage; `split` is predicted (with ground truth)", optional: true },
  },
  outputs: {
    [PREDICT_OUTPUTS.submission]: { description: "Predictions/, Binarised/, GroundTruth/ (PNG at original size, SSBC names) and predictions.json" },
    [PREDICT_OUTPUTS.overlays]: { description: "<name>.jpg overlays when params.overlays is true (else empty)" },
  },
  usesBackend: true,
  externalInputs(params, baseDir) {
    return params.images === undefined ? [] : [{ path: path.resolve(baseDir, params.images), about: "params.images" }];
  },
  preflight({ stageId, params, inputs }) {
    const d = params.images === undefined ? readDatasetFacts(inputs["tensors"]) : null;
    if (d === null || d.originals[params.split] > 0) return [];
    return [emptySplitProblem(d, params.split, `predict writes the submission of the ${params.split} split's original images`, [`or predict another split: stages.${stageId}.params.split`])];
  },
  async run(ctx: StageContext<PredictParams>) {
    const { runPredict } = await import("./run-predict.js");
    return runPredict(ctx);
  },
});
