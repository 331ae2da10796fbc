/**
 * The flip-augment stage's params and schema: a leaf module (see resize-params.ts).
 */
import type { Flip, Split } from "./dataset-manifest.js";

export type { Flip } from "./dataset-manifest.js";

export interface FlipAugmentParams {
  /** Splits whose items get mirrored copies; the others pass through untouched. */
  readonly splits: readonly Split[];
  /** One new item per flip per original item. */
  readonly flips: readonly Flip[];
}

export const flipAugmentParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    splits: {
      type: "array",
      items: { enum: ["train", "val", "test"] },
      uniqueItems: true,
      default: ["train"],
      description: "Splits whose items get mirrored copies",
    },
    flips: {
      type: "array",
      items: { enum: ["horizontal", "vertical"] },
      uniqueItems: true,
      minItems: 1,
      default: ["horizontal"],
      description: "Mirrors to add for each item",
    },
  },
} as const;
