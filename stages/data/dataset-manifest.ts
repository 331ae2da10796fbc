/**
 * The dataset manifest that `load` writes and `flip-augment` and `resize` read.
 *
 * Paths are stored as given: absolute for files outside the store (a user's dataset),
 * relative to the manifest's own folder for files inside the artifact (synthetic
 * images). Resolve them with `resolveItemPath`.
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

export interface FileRef {
  readonly path: string;
  /** sha256 of the file's bytes, hex. */
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
}

/** A geometric transform applied when the item is materialised (by `resize`). */
export type ItemTransform = { readonly flip: "horizontal" | "vertical" };

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

export function resolveItemPath(manifestDir: string, filePath: string): string {
  return path.resolve(manifestDir, filePath);
}
