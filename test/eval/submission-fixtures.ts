/**
 * Tiny SSBC submission folders written inline: 8x6 images whose sclera is the left k
 * columns, so every count can be worked out by hand (each column is 6 pixels).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { writePng } from "../stages/resize-fixtures.js";

export const WIDTH = 8;
export const HEIGHT = 6;

/** 0/255 mask whose left `columns` columns are white. */
export function leftColumns(columns: number, width = WIDTH, height = HEIGHT): Uint8Array {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < columns; x++) data[y * width + x] = 255;
  return data;
}

/** Column x has probability level 250 - 30x (250, 220, 190, ..., 40). */
export function columnRamp(width = WIDTH, height = HEIGHT): Uint8Array {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = 250 - 30 * x;
  return data;
}

export interface FixtureImage {
  readonly base: string;
  /** Sclera columns of the ground truth. */
  readonly truth: number;
  /** Sclera columns of the binarised mask. */
  readonly binarised: number;
  readonly attributes?: Record<string, string>;
}

export async function writeGrey(file: string, data: Uint8Array, width = WIDTH, height = HEIGHT): Promise<void> {
  await writePng(file, { width, height, channels: 1, data });
}

/** Writes Predictions/, Binarised/, GroundTruth/ and (unless `manifest` is false) predictions.json. */
export async function writeSubmission(dir: string, images: readonly FixtureImage[], options: { manifest?: boolean } = {}): Promise<void> {
  for (const image of images) {
    const name = `${image.base}.png`;
    await writeGrey(path.join(dir, "GroundTruth", name), leftColumns(image.truth));
    await writeGrey(path.join(dir, "Binarised", name), leftColumns(image.binarised));
    await writeGrey(path.join(dir, "Predictions", name), columnRamp());
  }
  if (options.manifest === false) return;
  await mkdir(dir, { recursive: true });
  const manifest = {
    version: 1,
    threshold: 0.5,
    items: images.map((image) => ({
      id: image.base,
      name: `${image.base}.png`,
      split: "test",
      subject: `s-${image.base}`,
      attributes: image.attributes ?? {},
    })),
  };
  await writeFile(path.join(dir, "predictions.json"), JSON.stringify(manifest, null, 2));
}

/**
 * Six images; binarised counts (TP, FP, FN, TN) by hand, 6 pixels per column:
 * eye1 k2 j2: 12  0  0 36 | eye2 k3 j4: 18  6  0 24 | eye3 k4 j3: 18  0  6 24
 * eye4 k2 j2: 12  0  0 36 | eye5 k3 j3: 18  0  0 30 | eye6 k4 j5: 24  6  0 18
 */
export const SIX: readonly FixtureImage[] = [
  { base: "eye1", truth: 2, binarised: 2, attributes: { light: "day", phone: "a" } },
  { base: "eye2", truth: 3, binarised: 4, attributes: { light: "day", phone: "b" } },
  { base: "eye3", truth: 4, binarised: 3, attributes: { light: "day", phone: "a" } },
  { base: "eye4", truth: 2, binarised: 2, attributes: { light: "night", phone: "b" } },
  { base: "eye5", truth: 3, binarised: 3, attributes: { light: "night", phone: "a" } },
  { base: "eye6", truth: 4, binarised: 5, attributes: { light: "night", phone: "b" } },
];

export const SIX_COUNTS: Record<string, { tp: number; fp: number; fn: number; tn: number }> = {
  eye1: { tp: 12, fp: 0, fn: 0, tn: 36 },
  eye2: { tp: 18, fp: 6, fn: 0, tn: 24 },
  eye3: { tp: 18, fp: 0, fn: 6, tn: 24 },
  eye4: { tp: 12, fp: 0, fn: 0, tn: 36 },
  eye5: { tp: 18, fp: 0, fn: 0, tn: 30 },
  eye6: { tp: 24, fp: 6, fn: 0, tn: 18 },
};
