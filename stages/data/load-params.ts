/**
 * The params of the `load` stage: their types, their JSON schema and the checks the
 * schema cannot express (fractions that sum to 1). Cheap to import: no I/O here.
 */
import path from "node:path";

import type { ExternalInput } from "../../pipeline/stage.js";
import type { MaskEncoding, Rgb } from "./dataset-manifest.js";

export type SourceKind = "folders" | "masd" | "sbvpi" | "mobius" | "synthetic";

export interface FoldersSource {
  readonly kind: "folders";
  /** Folder of images (searched recursively), relative to the experiment file. */
  readonly images: string;
  /** Folder of masks, mirroring the images' sub-folders. */
  readonly masks: string;
  /** Mask file name for an image named `<name>.<ext>`, e.g. `{name}_mask.png`. */
  readonly mask_name?: string;
  /** Alternative to mask_name: a regex over mask file names whose group `name` (or group 1) is the image's name. */
  readonly mask_regex?: string;
  /** Regex over image base names whose named groups become attributes (for evaluate's breakdowns), e.g. `^(?<kind>[a-z]+)_`. */
  readonly name_attributes?: string;
  readonly mask?: MaskEncoding;
}

export interface TreeSource {
  readonly kind: "masd" | "sbvpi" | "mobius";
  /** The dataset's root folder, relative to the experiment file. */
  readonly root: string;
  readonly mask?: MaskEncoding;
}

export interface SyntheticSource {
  readonly kind: "synthetic";
  readonly count: number;
  /** Image width range in pixels, height 3/4 of the width; when both are omitted the generator picks sizes. */
  readonly min_size?: number;
  readonly max_size?: number;
  readonly image_format?: "png" | "jpeg";
  /** Framings to generate (default all): `closeup` eyes fill the frame like phone crops, `webcam` and `face` are wide shots. */
  readonly views?: readonly ("closeup" | "webcam" | "face")[];
}

export type SourceParams = FoldersSource | TreeSource | SyntheticSource;

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

export const MOBIUS_COLOURS = {
  sclera: [255, 0, 0] as Rgb,
  iris: [0, 255, 0] as Rgb,
  pupil: [0, 0, 255] as Rgb,
  other: [0, 0, 0] as Rgb,
};

/** The encoding a source's masks use unless the params say otherwise. */
export function defaultMaskEncoding(kind: SourceKind): MaskEncoding {
  switch (kind) {
    case "mobius":
      return {
        kind: "rgb",
        sclera: MOBIUS_COLOURS.sclera,
        known: [MOBIUS_COLOURS.iris, MOBIUS_COLOURS.pupil, MOBIUS_COLOURS.other],
      };
    case "synthetic":
    case "folders":
    case "masd":
    case "sbvpi":
      // SBVPI masks are grey or RGBA with a transparent background: binary reads
      // the brightest channel dimmed by alpha, which covers both.
      return { kind: "binary" };
    default:
      return unknownKind(kind);
  }
}

export const DEFAULT_SYNTHETIC = { image_format: "png" } as const;

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
  const source = params.source;
  const abs = (p: string): string => path.resolve(baseDir, p);
  const extra = params.split.file !== undefined ? [{ path: abs(params.split.file), about: "split.file" }] : [];
  const under = (folder: string, what: string): ExternalInput => ({
    path: path.join(abs((source as TreeSource).root), folder),
    about: `${what}: source.root + /${folder}, for the ${source.kind} layout`,
  });
  switch (source.kind) {
    case "folders":
      return [{ path: abs(source.images), about: "source.images" }, { path: abs(source.masks), about: "source.masks" }, ...extra];
    case "masd":
      return [under("MASD", "the photos"), under("MASD_GT", "the masks"), ...extra];
    case "sbvpi":
      return [{ path: abs(source.root), about: "source.root, for the sbvpi layout" }, ...extra];
    case "mobius":
      return [under("Images", "the photos"), under("Masks", "the masks"), ...extra];
    case "synthetic":
      return extra;
    default:
      return unknownKind(source);
  }
}

const rgbSchema = {
  type: "array",
  items: { type: "integer", minimum: 0, maximum: 255 },
  minItems: 3,
  maxItems: 3,
};

/**
 * An object schema picked by its `kind`: `if kind == X then branch X`, so a wrong value
 * gets one error about `kind` (or about the branch), not every branch's complaints.
 */
function byKind(description: string, branches: readonly Record<string, unknown>[]): Record<string, unknown> {
  const kinds = branches.map((branch) => ((branch["properties"] as Record<string, { const: string }>)["kind"] as { const: string }).const);
  return {
    description,
    type: "object",
    required: ["kind"],
    properties: { kind: { enum: kinds, description: `One of: ${kinds.join(", ")}` } },
    allOf: branches.map((branch) => {
      const kind = (branch["properties"] as Record<string, { const: string }>)["kind"] as { const: string };
      return { if: { properties: { kind: { const: kind.const } } }, then: branch };
    }),
  };
}

const maskEncodingSchema = byKind("How the sclera is encoded in the mask files (default depends on the source kind)", [
  {
    additionalProperties: false,
    properties: {
      kind: { const: "binary", description: "Sclera where the grey value (brightest channel, dimmed by alpha) > threshold" },
      threshold: { type: "number", minimum: 0, maximum: 255, description: "0-255 scale; 0 = any non-zero value (use ~127 for JPEG masks)" },
    },
  },
  {
    additionalProperties: false,
    required: ["sclera"],
    properties: {
      kind: { const: "class-index", description: "Single-channel or palette mask; the sclera is one class value" },
      sclera: { type: "integer", minimum: 0, description: "Sample value (or palette index) of the sclera class" },
    },
  },
  {
    additionalProperties: false,
    required: ["sclera"],
    properties: {
      kind: { const: "rgb", description: "Colour-coded classes; the sclera is one colour" },
      sclera: { ...rgbSchema, description: "Sclera colour [r, g, b]" },
      tolerance: { type: "number", minimum: 0, maximum: 255, description: "Per-channel tolerance (default 0, or 48 for JPEG masks)" },
      known: { type: "array", items: rgbSchema, description: "Other class colours; pixels of no declared colour are then invalid" },
    },
  },
  {
    additionalProperties: false,
    properties: {
      kind: { const: "alpha", description: "Sclera where the alpha channel > threshold" },
      threshold: { type: "number", minimum: 0, maximum: 255, description: "0-255 scale, default 0" },
    },
  },
]);

const pathSchema = (description: string): Record<string, unknown> => ({ type: "string", minLength: 1, description });

const TREE_DESCRIPTIONS: Record<"masd" | "sbvpi" | "mobius", string> = {
  masd: "MASD: root/MASD/<subject>/*.jpg with masks in root/MASD_GT/<subject>/*.png",
  sbvpi: "SBVPI: root/<subject>/<subject><L|R>_<gaze>_<n>.jpg with <base>_sclera.png beside it",
  mobius: "MOBIUS: root/Images/<ID>/<ID>_<phone><light>_<eye><gaze>_<n>.jpg, RGB masks in root/Masks/<ID>/",
};

export const loadParamsSchema = {
  type: "object",
  additionalProperties: false,
  required: ["source"],
  properties: {
    source: byKind("Where the images and masks come from; `kind` selects the layout", [
      {
        additionalProperties: false,
        required: ["images", "masks"],
        properties: {
          kind: { const: "folders", description: "An images folder and a masks folder, paired by base name" },
          images: pathSchema("Images folder, relative to the experiment file (searched recursively)"),
          masks: pathSchema("Masks folder, relative to the experiment file, mirroring the images' sub-folders"),
          mask_name: { type: "string", pattern: "\\{name\\}", description: "Mask file name for image `<name>.<ext>`, e.g. `{name}_mask.png` (default: any image file named `<name>.*`)" },
          mask_regex: { type: "string", minLength: 1, description: "Regex over mask file names; group `name` (or group 1) is the image's base name" },
          name_attributes: {
            type: "string",
            minLength: 1,
            description: "Regex over image base names; each named group becomes an attribute that evaluate breaks its scores down by, e.g. `^(?<kind>[a-z]+)_` gives kind=webcam for webcam_12.jpg",
          },
          mask: maskEncodingSchema,
        },
      },
      ...(["masd", "sbvpi", "mobius"] as const).map((kind) => ({
        additionalProperties: false,
        required: ["root"],
        properties: {
          kind: { const: kind, description: TREE_DESCRIPTIONS[kind] },
          root: pathSchema("The dataset's root folder, relative to the experiment file"),
          mask: maskEncodingSchema,
        },
      })),
      {
        additionalProperties: false,
        required: ["count"],
        properties: {
          kind: { const: "synthetic", description: "Procedurally generated eyes (written into the dataset folder)" },
          count: { type: "integer", minimum: 1, description: "Number of eyes to generate" },
          min_size: { type: "integer", minimum: 32, description: "Smallest image width in pixels, height 3/4 of it (default: the generator picks sizes and aspect ratios)" },
          max_size: { type: "integer", minimum: 32, description: "Largest image width in pixels (default: the generator picks)" },
          image_format: { enum: ["png", "jpeg"], description: "Image file format (masks are always PNG); default png" },
          views: {
            type: "array",
            items: { enum: ["closeup", "webcam", "face"] },
            minItems: 1,
            uniqueItems: true,
            description: "Framings to generate: `closeup` (one eye fills the frame, like phone crops), `webcam`, `face` (wide shots, small sclera); default all three",
          },
        },
      },
    ]),
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

function unknownKind(value: never): never {
  throw new Error(`unknown source kind ${JSON.stringify(value)}`);
}
