/** Shared by the augment tests: the schema's default params and the augmentation that changes nothing. */
import { augmentParamsSchema, type AugmentParams } from "../../stages/data/augment-params.js";
import type { Augmentation } from "../../stages/data/dataset-manifest.js";

/** The params as a config with `params: {}` gets them (the schema's defaults). */
export const DEFAULT_PARAMS = Object.fromEntries(
  Object.entries(augmentParamsSchema.properties).map(([key, schema]) => [key, schema.default]),
) as unknown as AugmentParams;

export const IDENTITY: Augmentation = {
  rotate: 0,
  scale: 1,
  tx: 0,
  ty: 0,
  brightness: 1,
  contrast: 1,
  gamma: 1,
  hue: 0,
  saturation: 1,
  blur: null,
  noise: 0,
  noiseSeed: 0,
  jpeg: null,
};
