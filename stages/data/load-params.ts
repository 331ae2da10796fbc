/**
 * The params of the `load` stage: their types, their JSON schema and the checks the
 * schema cannot express (fractions that sum to 1). Cheap to import: no I/O here.
 */
import path from "node:path";

import type { ExternalInput } from "../../pipeline/stage.js";
import type { MaskEncoding } from "./dataset-manifest.js";
import { byKind } from "./schema-by-kind.js";
import { pathSchema } from "./sources/layout.js";
import { SOURCE_LAYOUTS, layoutOf, type SourceKind, type SourceParams } from "./sources/layouts.js";

export type { FoldersSource } from "./sources/folders.js";
export type { TreeSource } from "./sources/layout.js";
export type { SourceKind, SourceParams } from "./sources/layouts.js";
export type { SyntheticSource } from "./sources/synthetic.js";
export { MOBIUS_COLOURS } from "./sources/mobius.js";
export { DEFAULT_SYNTHETIC } from "./sources/synthetic.js";

export type SplitBy = "subject" | "image";

export interface SplitParams {
  readonly train: number;
  readonly val: number;
  readonly test: number;
  /** Default: subject when every item has one, else image. */
  readonly by?: SplitBy;
  /** JSON or CSV file mapping item id -> split; overrides the fractions. */
  readonly file?: string;
  /** k-fold cross-validation: the items are dealt into this many folds (by the unit above)... */
  readonly folds?: number;
  /** ...and this fold (0-based) is the test split; train/val share the rest by their fractions. */
  readonly fold?: number;
}

export interface LoadParams {
  readonly source: SourceParams;
  readonly split: SplitParams;
  readonly on_invalid: "error" | "skip";
  readonly limit?: number;
}

/** The encoding a source's masks use unless the params say otherwise. */
export function defaultMaskEncoding(kind: SourceKind): MaskEncoding {
  const layout = SOURCE_LAYOUTS.find((l) => l.kind === kind);
  if (layout === undefined) throw new Error(`unknown source kind ${JSON.stringify(kind)}`);
  return layout.defaultMask;
}

/** The mask encoding of `source`: its `mask` when given, else its layout's default. */
export function maskEncodingOf(source: SourceParams): MaskEncoding {
  return ("mask" in source ? source.mask : undefined) ?? layoutOf(source).defaultMask;
}

/** Throws an Error naming the values when the split fractions do not sum to 1, or the k-fold params do not fit together. */
export function checkSplitFractions(split: SplitParams): void {
  const { train, val, test, folds, fold } = split;
  if (folds !== undefined || fold !== undefined) {
    if (folds === undefined) throw new Error(`split.fold ${fold} needs split.folds (how many folds there are)`);
    if (fold === undefined) throw new Error(`split.folds ${folds} needs split.fold (which of folds 0..${folds - 1} is the test split)`);
    if (fold >= folds) throw new Error(`split.fold must be below split.folds (0..${folds - 1}), got fold ${fold} of ${folds}`);
    if (split.file !== undefined) throw new Error("split.folds and split.file cannot be used together: the file fixes every item's split");
    if (train + val <= 0) throw new Error("split.train + split.val must be above 0 for k-fold (they share what the test fold leaves)");
    return; // with folds, `test` is the held-out fold and its fraction is not used
  }
  const sum = train + val + test;
  if (Math.abs(sum - 1) > 1e-6) {
    throw new Error(`split fractions must sum to 1, got train ${train} + val ${val} + test ${test} = ${round(sum)}`);
  }
}

/** The folders a source reads (absolute): their content joins the cache fingerprint. */
export function sourceFolders(params: LoadParams, baseDir: string): ExternalInput[] {
  const extra = params.split.file !== undefined ? [{ path: path.resolve(baseDir, params.split.file), about: "split.file" }] : [];
  return [...layoutOf(params.source).inputs(params.source, baseDir), ...extra];
}

export const loadParamsSchema = {
  type: "object",
  additionalProperties: false,
  required: ["source"],
  properties: {
    source: byKind(
      "Where the images and masks come from; `kind` selects the layout",
      SOURCE_LAYOUTS.map((layout) => layout.schema),
    ),
    split: {
      description: "How items are divided into train/val/test (deterministic from the experiment seed)",
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        train: { type: "number", minimum: 0, maximum: 1, default: 0.8, description: "Fraction of items for training" },
        val: { type: "number", minimum: 0, maximum: 1, default: 0.1, description: "Fraction of items for validation" },
        test: { type: "number", minimum: 0, maximum: 1, default: 0.1, description: "Fraction of items for testing" },
        by: { enum: ["subject", "image"], description: "Unit of the split: subject (no subject in two splits; default when every item has one) or image" },
        file: pathSchema("JSON ({id: split} or {train: [ids], ...}) or CSV (id,split) file fixing each item's split; overrides the fractions"),
        folds: { type: "integer", minimum: 2, description: "k-fold cross-validation: deal the items (whole subjects with by: subject) into this many folds; needs `fold`" },
        fold: { type: "integer", minimum: 0, description: "Which fold (0-based, below `folds`) is the test split; train and val share the other folds by their fractions (`test` is then unused)" },
      },
    },
    on_invalid: {
      enum: ["error", "skip"],
      default: "error",
      description: "error: fail naming the bad files; skip: leave those items out and list them in report.json",
    },
    limit: { type: "integer", minimum: 1, description: "Keep at most this many items (a seeded random subset; for quick runs)" },
  },
};

/** Fills the defaults the schema would fill, for callers that skip validation. */
export function withDefaults(params: Partial<LoadParams> & Pick<LoadParams, "source">): LoadParams {
  const split = params.split ?? { train: 0.8, val: 0.1, test: 0.1 };
  return {
    ...params,
    source: params.source,
    split: { ...split, train: split.train ?? 0.8, val: split.val ?? 0.1, test: split.test ?? 0.1 },
    on_invalid: params.on_invalid ?? "error",
  };
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
