/**
 * The augment stage's params, schema and the checks the schema cannot express
 * (a range's min above its max): a leaf module (see resize-params.ts). A new stage
 * type, so its schema carries defaults for every op; each op is switched off with 0
 * (amounts, probabilities) or null (ranges).
 */
import type { Split } from "./dataset-manifest.js";
import { copiedSplitsSchema } from "./flip-augment-params.js";

/** [min, max], or null for "off". */
export type Range = readonly [number, number] | null;

export interface AugmentParams {
  /** Splits whose items get augmented copies; the others pass through untouched. */
  readonly splits: readonly Split[];
  /** Augmented copies per item. */
  readonly copies: number;
  /** Also augment items that carry a flip (flip-augment's copies). */
  readonly include_augmented: boolean;
  /** Max rotation in degrees, either way. */
  readonly rotate: number;
  /** Zoom factor range (log-uniform); above 1 crops into the middle. */
  readonly scale: Range;
  /** Max shift, as a fraction of the side, along each axis. */
  readonly translate: number;
  /** Max relative change of the pixel values. */
  readonly brightness: number;
  /** Max relative change of the distance from the mean grey. */
  readonly contrast: number;
  /** Gamma range (log-uniform). */
  readonly gamma: Range;
  /** Max hue rotation in degrees, either way. */
  readonly hue: number;
  /** Max relative change of the saturation. */
  readonly saturation: number;
  /** Probability of a Gaussian blur. */
  readonly blur: number;
  /** Its sigma range, in pixels of the resized image. */
  readonly blur_sigma: readonly [number, number];
  /** Max std of the Gaussian noise, in 0..255 units. */
  readonly noise: number;
  /** Probability of a JPEG round trip. */
  readonly jpeg: number;
  /** Its quality range (whole numbers). */
  readonly jpeg_quality: readonly [number, number];
}

/** The file the stage writes beside its `dataset` output: originals next to their augmented copies. */
export const PREVIEW_FILE = "preview.png";

/** A [min, max] param; `nullable` ones are switched off with null. */
const range = (items: Record<string, unknown>, fallback: readonly [number, number], description: string, nullable = false) => ({
  type: nullable ? ["array", "null"] : "array",
  items,
  minItems: 2,
  maxItems: 2,
  default: fallback,
  description,
});

export const augmentParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    splits: copiedSplitsSchema("Splits whose items get augmented copies"),
    copies: { type: "integer", minimum: 1, maximum: 100, default: 2, description: "Augmented copies per item (ids <id>_aug1, <id>_aug2, ...)" },
    include_augmented: {
      type: "boolean",
      default: true,
      description: "Also augment items that are mirrored copies (flip -> augment); items that already carry an augmentation are never augmented again",
    },
    rotate: { type: "number", minimum: 0, maximum: 180, default: 15, description: "Max rotation about the centre in degrees, either way (uniform); 0: off" },
    scale: range(
      { type: "number", exclusiveMinimum: 0, maximum: 10 },
      [0.85, 1.2],
      "Zoom about the centre, [min, max] (log-uniform): above 1 crops into the middle (a random crop, with translate), below 1 shrinks with black around; null: off",
      true,
    ),
    translate: { type: "number", minimum: 0, maximum: 1, default: 0.1, description: "Max shift along each axis as a fraction of the side (uniform); 0: off" },
    brightness: { type: "number", minimum: 0, maximum: 1, default: 0.25, description: "Pixel values times a factor in [1 - b, 1 + b]; 0: off" },
    contrast: { type: "number", minimum: 0, maximum: 1, default: 0.25, description: "Distance from the image's mean grey times a factor in [1 - c, 1 + c]; 0: off" },
    gamma: range({ type: "number", exclusiveMinimum: 0, maximum: 10 }, [0.7, 1.4], "255 * (v / 255) ^ gamma, gamma in [min, max] (log-uniform); null: off", true),
    hue: { type: "number", minimum: 0, maximum: 180, default: 10, description: "Max hue rotation in degrees, either way (keeps luminance); 0: off" },
    saturation: { type: "number", minimum: 0, maximum: 1, default: 0.3, description: "Saturation times a factor in [1 - s, 1 + s]; 0: off" },
    blur: { type: "number", minimum: 0, maximum: 1, default: 0.2, description: "Probability of a Gaussian blur (sigma from blur_sigma); 0: off" },
    blur_sigma: range({ type: "number", exclusiveMinimum: 0, maximum: 10 }, [0.5, 1.5], "The blur's sigma in pixels of the resized image, [min, max] (uniform)"),
    noise: { type: "number", minimum: 0, maximum: 64, default: 8, description: "Max std of Gaussian noise per channel in 0..255 units (std uniform in [0, noise]); 0: off" },
    jpeg: { type: "number", minimum: 0, maximum: 1, default: 0.3, description: "Probability of a JPEG round trip (quality from jpeg_quality); 0: off" },
    jpeg_quality: range({ type: "integer", minimum: 1, maximum: 100 }, [30, 90], "The JPEG round trip's quality, [min, max] (whole numbers, uniform)"),
  },
} as const;

/** A param the schema accepts but the stage cannot use, with the key at fault. */
export interface AugmentParamProblem {
  readonly key: keyof AugmentParams;
  readonly message: string;
}

/** What is wrong with `params` beyond the schema: ranges whose min is above their max, a copy count below 1. */
export function augmentParamProblems(params: AugmentParams): AugmentParamProblem[] {
  const problems: AugmentParamProblem[] = [];
  if (!Number.isInteger(params.copies) || params.copies < 1) {
    problems.push({ key: "copies", message: `must be a whole number of at least 1, got ${JSON.stringify(params.copies)}` });
  }
  for (const key of ["scale", "gamma", "blur_sigma", "jpeg_quality"] as const) {
    const value = params[key];
    if (value !== null && value[0] > value[1]) {
      problems.push({ key, message: `must be [min, max] with min <= max, got [${value[0]}, ${value[1]}]` });
    }
  }
  return problems;
}

/** Throws naming every param at fault (for `run`; the preflight reports the same before anything runs). */
export function checkAugmentParams(params: AugmentParams): void {
  const problems = augmentParamProblems(params);
  if (problems.length > 0) throw new Error(`augment: ${problems.map((p) => `params.${p.key} ${p.message}`).join("; ")}`);
}
