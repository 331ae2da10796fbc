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

/** The `splits` param of a stage that adds copies (flip-augment, augment): by default the training split only. */
export function copiedSplitsSchema(description: string) {
  return { type: "array", items: { enum: ["train", "val", "test"] }, uniqueItems: true, default: ["train"], description } as const;
}

export const flipAugmentParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    splits: copiedSplitsSchema("Splits whose items get mirrored copies"),
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
