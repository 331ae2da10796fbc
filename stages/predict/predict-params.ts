/**
 * The params of the `predict` stage: their types, their JSON schema, the names of its
 * outputs and the fallback threshold. Cheap to import: the stage, its runner, the
 * `mu-pipe predict` command and evaluate's report section all read this file.
 */
import type { Split } from "../data/dataset-manifest.js";
import type { ImageKernel } from "../data/materialise.js";
import { ttaParamSchema, type Tta } from "../model/tta.js";

export interface PredictParams {
  readonly split: Split;
  /** A folder of images (no ground truth), relative to the experiment file. */
  readonly images?: string;
  /** Resampling kernel for `images` (use the resize stage's). */
  readonly kernel: ImageKernel;
  readonly batch_size: number;
  readonly overlays: boolean;
  readonly threshold?: number;
  /** Test-time augmentation; absent: the one the threshold was chosen with (none if it records none). */
  readonly tta?: Tta;
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
    tta: { ...ttaParamSchema, description: `${ttaParamSchema.description}; absent: what the threshold in use was chosen with (the threshold stage records it)` },
  },
} as const;
