/**
 * Test-time augmentation (TTA) for inference: `flip` averages the model's map of an
 * image with the left-right mirror of its map of the mirrored image, so the result is
 * mirror-equivariant (the map of a mirrored photo is the mirrored map). `none` is one
 * plain forward pass. The `threshold` and `predict` stages apply it (predict/infer.ts),
 * and a model folder's metadata records the mode its threshold was chosen with, so a
 * threshold cuts the kind of maps it was chosen on.
 *
 * Cheap to import (no TensorFlow): params modules, model metadata and the CLI read it.
 */

export const TTA_MODES = ["none", "flip"] as const;
export type Tta = (typeof TTA_MODES)[number];

/** The schema of the optional `tta` param (no default: absent keeps what a stage did before). */
export const ttaParamSchema = {
  enum: TTA_MODES,
  description: "Test-time augmentation: `flip` averages the maps of each image and of its left-right mirror (twice the inference work); `none` predicts once",
} as const;

export function isTta(value: unknown): value is Tta {
  return (TTA_MODES as readonly unknown[]).includes(value);
}

/** How a log line names a mode. */
export function describeTta(tta: Tta): string {
  return tta === "flip" ? "flip TTA (mean of the image and its mirror)" : "no TTA";
}
