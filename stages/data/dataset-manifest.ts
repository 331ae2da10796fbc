/**
 * The dataset manifest that `load` writes and `flip-augment`, `augment` and `resize` read.
 *
 * No path in it is absolute, so an artifact stays valid when the project (with its
 * store) is moved, copied, or mounted at another path on a cluster node: a user's file
 * outside the store is stored relative to the experiment file's folder (`base:
 * "experiment"`, as its fingerprint keys it); a file inside the artifact (synthetic
 * images) relative to the manifest's own folder. Manifests written before `base`
 * existed hold absolute paths, which still resolve. Resolve with `resolveFileRef`.
 */
import path from "node:path";

export const DATASET_MANIFEST_FILE = "manifest.json";
export const DATASET_MANIFEST_VERSION = 1;

export type Split = "train" | "val" | "test";

export type Rgb = readonly [number, number, number];

/**
 * How the sclera is encoded in a mask file (stages/data/masks.ts decodes it).
 * Thresholds and colours are on the 0-255 scale; samples of other bit depths are
 * compared after scaling (a 16-bit 0/65535 mask and a 1-bit mask both read as 0/255).
 */
export type MaskEncoding =
  /** Sclera where the grey value (brightest colour channel, dimmed by alpha) > threshold (default 0). */
  | { readonly kind: "binary"; readonly threshold?: number }
  /** Single channel (or palette index), sample at the file's own bit depth == sclera. */
  | { readonly kind: "class-index"; readonly sclera: number }
  /**
   * Sclera where every channel is within `tolerance` of the colour (default 0 for
   * lossless files, 48 for JPEG). `known` lists the other class colours; when given,
   * a pixel near none of them nor the sclera colour is an "unknown colour" problem.
   */
  | {
      readonly kind: "rgb";
      readonly sclera: Rgb;
      readonly tolerance?: number;
      readonly known?: readonly Rgb[];
    }
  /** Sclera where alpha > threshold (default 0). */
  | { readonly kind: "alpha"; readonly threshold?: number };

/**
 * What a stored path is relative to. `experiment`: the experiment file's folder
 * (`/`-separated). Absent: the folder of the manifest holding it, unless absolute.
 */
export type PathBase = "experiment";

/** A stored path and what it is relative to. */
export interface StoredPath {
  readonly path: string;
  readonly base?: PathBase;
}

export interface FileRef extends StoredPath {
  /** sha256 of the file's bytes, hex. */
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
}

export type Flip = "horizontal" | "vertical";

/**
 * One augmentation's concrete values, drawn once by the `augment` stage (so the item
 * means the same pixels wherever it is materialised) and applied by `resize` after the
 * stretch to size x size and after any flip. stages/data/augment-ops.ts applies them,
 * in this order: the geometric warp, then the photometric ops on the image only.
 */
export interface Augmentation {
  /** Rotation about the centre in degrees, clockwise as seen (image y points down); 0: none. */
  readonly rotate: number;
  /** Zoom about the centre: 1.2 shows the middle 1/1.2 of the side (a crop), 0.85 shrinks with black around. */
  readonly scale: number;
  /** Shift of the content as a fraction of the side (+x right, +y down). */
  readonly tx: number;
  readonly ty: number;
  /** Pixel values times this. */
  readonly brightness: number;
  /** Distance from the image's mean grey times this. */
  readonly contrast: number;
  /** 255 * (v / 255) ^ gamma per channel. */
  readonly gamma: number;
  /** Hue rotation in degrees (the CSS `hue-rotate` matrix: keeps luminance). */
  readonly hue: number;
  /** Distance from each pixel's luminance times this (0 would be grey). */
  readonly saturation: number;
  /** Gaussian blur sigma in pixels of the size x size image; null: no blur. */
  readonly blur: number | null;
  /** Std of Gaussian noise added per channel (0..255 units); 0: none. */
  readonly noise: number;
  /** Seed of the noise (mulberry32, stages/data/split.ts `makeRandom`). */
  readonly noiseSeed: number;
  /** JPEG quality of a round trip through sharp's encoder; null: none. */
  readonly jpeg: number | null;
}

/**
 * What `resize` applies to an item after stretching its files to size x size: the flip
 * first, then the augmentation. Manifests written before `augment` existed hold
 * `{ flip }` only, which means what it always meant.
 */
export interface ItemTransform {
  /** horizontal mirrors left-right, vertical top-bottom (flip-augment). */
  readonly flip?: Flip;
  /** Drawn by the `augment` stage. */
  readonly augment?: Augmentation;
}

export interface DatasetItem {
  /** Unique within the manifest; also the base of output file names (SSBC naming). */
  readonly id: string;
  readonly image: FileRef;
  readonly mask: FileRef;
  readonly maskEncoding: MaskEncoding;
  readonly subject: string | null;
  /** What the source layout's names carry: source, eye, gaze, phone, light, ... */
  readonly attributes: Readonly<Record<string, string>>;
  readonly split: Split;
  /** Set for augmented items; `augmentOf` is the id of the original. */
  readonly transform?: ItemTransform;
  readonly augmentOf?: string;
}

export interface SkippedItem {
  readonly files: readonly string[];
  readonly reason: string;
}

export interface DatasetManifest {
  readonly version: typeof DATASET_MANIFEST_VERSION;
  readonly items: readonly DatasetItem[];
  readonly skipped: readonly SkippedItem[];
}

/** Where a stored path is on this machine: `manifestDir` holds the manifest, `baseDir` the experiment file. */
export function resolveFileRef(ref: StoredPath, manifestDir: string, baseDir: string): string {
  return path.resolve(ref.base === "experiment" ? baseDir : manifestDir, ref.path);
}

/** A file outside the store as manifests store it: relative to the experiment file's folder. */
export function experimentPath(file: string, baseDir: string): StoredPath {
  return { path: path.relative(baseDir, file).split(path.sep).join("/"), base: "experiment" };
}
