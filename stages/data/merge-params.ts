/**
 * The merge stage's params and schema: a leaf module (see resize-params.ts).
 */
import type { Split } from "./dataset-manifest.js";

export interface MergeParams {
  /** Set on every item of `add` (replacing a value it had), e.g. `{ kind: synthetic }`. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * Prepended to the ids (and subjects) of `add`'s items and to the relative paths of the
   * files inside its artifact. Two artifacts may both hold `images/0001.png`, and two
   * sources may both name an item `0001`: without the prefix one would hide the other.
   */
  readonly prefix: string;
  /** Which of `add`'s splits to keep; absent: all. */
  readonly splits?: readonly Split[];
}

export const mergeParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    attributes: {
      type: "object",
      additionalProperties: { type: "string" },
      default: {},
      description: "Attributes set on every item of `add` (replacing any value it had), e.g. { kind: synthetic } to balance or break scores down by",
    },
    prefix: {
      type: "string",
      pattern: "^([A-Za-z0-9_-][A-Za-z0-9._-]*)?$",
      default: "add_",
      description:
        "Prepended to the ids and subjects of `add`'s items and to the paths of the files its artifact holds (both artifacts may hold images/0001.png); letters, digits, _ . -",
    },
    splits: {
      type: "array",
      items: { enum: ["train", "val", "test"] },
      uniqueItems: true,
      minItems: 1,
      description: "Which of `add`'s splits to keep (each item stays in its split); default: all",
    },
  },
} as const;
