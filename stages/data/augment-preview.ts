/**
 * The augment stage's preview.png: a few originals, each followed by its first
 * augmented copies, as `resize` will materialise them (same code, at a smaller size),
 * with the mask's outline drawn on each tile, so a user sees what the params do
 * before training on them. Imports sharp: only the stage's `run` loads it.
 */
import sharp from "sharp";

import { resolveFileRef, type DatasetItem, type DatasetManifest } from "./dataset-manifest.js";
import { augmentedId } from "./augment-draw.js";
import { materialiseItem, materialiseSource } from "./materialise.js";

/** Originals shown (rows), augmented copies per row, tile side in pixels, gap between tiles. */
export const PREVIEW_LAYOUT = { rows: 4, copies: 3, tile: 128, gap: 4 } as const;

/** The mask outline's colour: bright green, as evaluate's overlays outline the ground truth. */
const OUTLINE: readonly [number, number, number] = [0, 255, 0];
const GAP_GREY = 48;

export interface PreviewSize {
  readonly width: number;
  readonly height: number;
  readonly rows: number;
  readonly columns: number;
}

/**
 * Writes the preview of `manifest` (the stage's output, whose files resolve against
 * `datasetDir` and `baseDir`) to `file`; null, writing nothing, when no item has copies.
 */
export async function writeAugmentPreview(file: string, manifest: DatasetManifest, datasetDir: string, baseDir: string): Promise<PreviewSize | null> {
  const byId = new Map(manifest.items.map((item) => [item.id, item]));
  const rows = previewOriginals(manifest.items, byId).map((original) => {
    const copies: DatasetItem[] = [];
    for (let k = 1; k <= PREVIEW_LAYOUT.copies; k++) {
      const copy = byId.get(augmentedId(original.id, k));
      if (copy !== undefined) copies.push(copy);
    }
    return [original, ...copies];
  });
  if (rows.length === 0) return null;
  const { tile, gap } = PREVIEW_LAYOUT;
  const columns = Math.max(...rows.map((row) => row.length));
  const width = columns * tile + (columns - 1) * gap;
  const height = rows.length * tile + (rows.length - 1) * gap;
  const grid = new Uint8Array(width * height * 3).fill(GAP_GREY);
  for (const [r, row] of rows.entries()) {
    const first = row[0] as DatasetItem;
    const files = {
      image: resolveFileRef(first.image, datasetDir, baseDir),
      mask: resolveFileRef(first.mask, datasetDir, baseDir),
      maskEncoding: first.maskEncoding,
    };
    const pixels = await materialiseSource(files, { size: tile, kernel: "lanczos3", maskThreshold: 0.5 });
    for (const [c, item] of row.entries()) {
      const image = new Uint8Array(tile * tile * 3);
      const mask = new Uint8Array(tile * tile);
      await materialiseItem(pixels, image, mask, tile, item.transform);
      drawOutline(image, mask, tile);
      pasteTile(grid, width, image, tile, c * (tile + gap), r * (tile + gap));
    }
  }
  await sharp(grid, { raw: { width, height, channels: 3 } }).png().toFile(file);
  return { width, height, rows: rows.length, columns };
}

/**
 * Up to PREVIEW_LAYOUT.rows items that have copies, spread evenly over the manifest;
 * unflipped ones when there are any (the preview shows what augment adds).
 */
function previewOriginals(items: readonly DatasetItem[], byId: ReadonlyMap<string, DatasetItem>): DatasetItem[] {
  const withCopies = items.filter((item) => byId.has(augmentedId(item.id, 1)));
  const plain = withCopies.filter((item) => item.transform === undefined);
  const pool = plain.length > 0 ? plain : withCopies;
  const count = Math.min(PREVIEW_LAYOUT.rows, pool.length);
  return Array.from({ length: count }, (_, i) => pool[Math.floor((i * pool.length) / count)] as DatasetItem);
}

/** Colours the sclera pixels that touch a non-sclera pixel or the edge. */
function drawOutline(image: Uint8Array, mask: Uint8Array, size: number): void {
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= size || y >= size ? 0 : mask[y * size + x]!);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (at(x, y) === 0) continue;
      if (at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1)) continue;
      image.set(OUTLINE, (y * size + x) * 3);
    }
  }
}

function pasteTile(grid: Uint8Array, gridWidth: number, tile: Uint8Array, side: number, left: number, top: number): void {
  for (let y = 0; y < side; y++) grid.set(tile.subarray(y * side * 3, (y + 1) * side * 3), ((top + y) * gridWidth + left) * 3);
}
