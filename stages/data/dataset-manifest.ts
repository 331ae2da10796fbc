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

/** How the sclera is encoded in a mask file. */
export type MaskEncoding =
  | { readonly kind: "binary"; readonly threshold?: number } // any value > threshold (default 0) is sclera
  | { readonly kind: "class-index"; readonly sclera: number } // single channel, value == sclera
  | { readonly kind: "rgb"; readonly sclera: readonly [number, number, number]; readonly tolerance?: number }
  | { readonly kind: "alpha"; readonly threshold?: number }; // alpha channel > threshold

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
