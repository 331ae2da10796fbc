/**
 * `predict`: probability maps and binarised masks for a tensors split (test by
 * default) and/or a folder of images, each mapped back to its image's original size
 * and written in the SSBC submission layout (see submission.ts). The threshold is, in
 * order: `params.threshold`, the `threshold` input, the model's own (a threshold
 * stage's `model` carries one), else 0.5 (logged).
 *
 * This module only declares the stage; TensorFlow and sharp load inside `run`.
 */
import path from "node:path";

import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import type { Split } from "../data/dataset-manifest.js";
import { emptySplitProblem, readDatasetFacts } from "../data/dataset-facts.js";
import type { ImageKernel } from "../data/materialise.js";

export interface PredictParams {
  readonly split: Split;
  /** A folder of images (no ground truth), relative to the experiment file. */
  readonly images?: string;
  /** Resampling kernel for `images` (use the resize stage's). */
  readonly kernel: ImageKernel;
  readonly batch_size: number;
  readonly overlays: boolean;
  readonly threshold?: number;
}

export const PREDICT_OUTPUTS = {
  submission: "submission",
  overlays: "overlays",
} as const;

/** Used when neither params, the `threshold` input nor the model give a threshold. */
export const FALLBACK_THRESHOLD = 0.5;

export const predictParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    split: { enum: ["train", "val", "test"], default: "test", description: "Split of the `tensors` input to predict" },
    images: { type: "string", minLength: 1, description: "A folder of images to predict (relative to the experiment file); they have no ground truth" },
    kernel: { enum: ["lanczos3", "mitchell", "cubic"], default: "lanczos3", description: "Resampling kernel for `images` (the resize stage's, so the model sees the same pixels)" },
    batch_size: { type: "integer", minimum: 1, default: 8, description: "Images per inference batch" },
    overlays: { type: "boolean", default: false, description: "Also write overlays/<name>.jpg: the photo with the predicted sclera tinted and the ground truth outlined" },
    threshold: { type: "number", minimum: 0, maximum: 1, description: "Binarisation threshold; overrides the `threshold` input and the model's own" },
  },
} as const;

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
