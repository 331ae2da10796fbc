/**
 * What scanning a source layout yields: image/mask pairs with their subject and
 * attributes, the pairing problems found on the way, and the files left aside.
 */
import type { SkippedItem } from "../dataset-manifest.js";

export interface Candidate {
  /** Proposed item id (made file-system safe and unique by the caller). */
  readonly id: string;
  /** Absolute paths. */
  readonly image: string;
  readonly mask: string;
  readonly subject: string | null;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface SourceScan {
  readonly candidates: readonly Candidate[];
  /** Files that cannot form an item: an image without mask, an orphan mask, a name that does not parse. */
  readonly problems: readonly SkippedItem[];
  /** Files that are not part of the layout (README.md, .DS_Store, other mask kinds), absolute. */
  readonly ignored: readonly string[];
  /** The folders scanned, for messages. */
  readonly folders: readonly string[];
}

/** A file found while scanning, keyed by what pairs it with its partner. */
export interface KeyedFile {
  readonly key: string;
  /** Absolute path. */
  readonly file: string;
}

export interface Pair {
  readonly key: string;
  readonly image: string;
  readonly mask: string;
}

/**
 * Pairs images and masks with equal keys. Two files of one side with the same key, an
 * image without a mask and a mask without an image are problems.
 */
export function pairByKey(
  images: readonly KeyedFile[],
  masks: readonly KeyedFile[],
  missingMask: (image: KeyedFile) => string,
): { pairs: Pair[]; problems: SkippedItem[] } {
  const problems: SkippedItem[] = [];
  const imageByKey = groupByKey(images);
  const maskByKey = groupByKey(masks);
  const pairs: Pair[] = [];
  for (const [key, imageFiles] of imageByKey) {
    const maskFiles = maskByKey.get(key) ?? [];
    if (imageFiles.length > 1) {
      problems.push({ files: [...imageFiles, ...maskFiles], reason: `${imageFiles.length} images share the name "${key}"` });
    } else if (maskFiles.length > 1) {
      problems.push({ files: [...imageFiles, ...maskFiles], reason: `${maskFiles.length} masks match one image` });
    } else if (maskFiles.length === 0) {
      const image = imageFiles[0] as string;
      problems.push({ files: [image], reason: missingMask({ key, file: image }) });
    } else {
      pairs.push({ key, image: imageFiles[0] as string, mask: maskFiles[0] as string });
    }
  }
  for (const [key, maskFiles] of maskByKey) {
    if (imageByKey.has(key)) continue;
    for (const file of maskFiles) problems.push({ files: [file], reason: "mask has no matching image" });
  }
  pairs.sort((a, b) => compare(a.key, b.key));
  return { pairs, problems };
}

function groupByKey(files: readonly KeyedFile[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { key, file } of files) {
    const list = map.get(key);
    if (list) list.push(file);
    else map.set(key, [file]);
  }
  return map;
}

/** Code-unit order, independent of the locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
