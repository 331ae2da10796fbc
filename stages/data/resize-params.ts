/**
 * The resize stage's params, schema and output names: a leaf module, so the stage, its
 * runner and anything that reads its output import them without cycles.
 */
import type { ImageKernel } from "./materialise.js";

export interface ResizeParams {
  /** Side of the square output, in pixels. */
  readonly size: number;
  /** Resampling kernel for images (masks always use an area-like linear filter). */
  readonly kernel: ImageKernel;
  /** A resized mask pixel is sclera when its coverage (0..1) is above this. */
  readonly mask_threshold: number;
}

export const RESIZE_OUTPUTS = { tensors: "tensors" } as const;

export const resizeParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    size: { type: "integer", minimum: 32, maximum: 1024, default: 224, description: "Output side in pixels" },
    kernel: {
      enum: ["lanczos3", "mitchell", "cubic"],
      default: "lanczos3",
      description: "Resampling kernel for images",
    },
    mask_threshold: {
      type: "number",
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.5,
      description: "A resized mask pixel is sclera when its coverage is above this",
    },
  },
} as const;
