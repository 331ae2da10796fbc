/**
 * The params of the `threshold` stage: their types, their JSON schema and the names of
 * its outputs. Cheap to import: the stage, its runner and its report section read this file.
 */
import type { Split } from "../data/dataset-manifest.js";
import { ttaParamSchema, type Tta } from "../model/tta.js";
import { whereParamSchema, type Where } from "./item-where.js";

export interface ThresholdParams {
  readonly split: Split;
  readonly step: number;
  readonly batch_size: number;
  readonly include_augmented: boolean;
  /** Pool only the items with these attribute values; absent: every item. */
  readonly where?: Where;
  /** Test-time augmentation of the maps swept; absent: none (and nothing recorded). */
  readonly tta?: Tta;
}

export const THRESHOLD_OUTPUTS = {
  threshold: "threshold.json",
  curve: "curve.csv",
  pr: "pr.csv",
  model: "model",
} as const;

export const thresholdParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    split: { enum: ["train", "val", "test"], default: "train", description: "Split whose pixels are pooled (the seed sweeps the training images)" },
    step: { type: "number", exclusiveMinimum: 0, maximum: 0.5, default: 0.01, description: "Spacing of the thresholds tried, from 0 to 1" },
    batch_size: { type: "integer", minimum: 1, default: 8, description: "Images per inference batch" },
    include_augmented: { type: "boolean", default: false, description: "Also pool the augmented copies (flip-augment, augment; by default only original images count)" },
    where: whereParamSchema,
    tta: { ...ttaParamSchema, description: `${ttaParamSchema.description}; recorded with the threshold, so predict follows it` },
  },
} as const;
