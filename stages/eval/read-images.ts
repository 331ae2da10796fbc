/**
 * Reading the three kinds of image a submission is scored from, each brought to the
 * scoring size:
 * - ground truth: any mask `decodeScleraMask` reads, by default as `binary` (sclera =
 *   nonzero: 0/255, 0/1, 1-bit, palette, RGB(A)), or in the load stage's other
 *   encodings (class-index, rgb, alpha); resized nearest-neighbour;
 * - Binarised/: grey level > 127 is sclera (the SSBC kit's black/white conversion cuts
 *   at 128, which also survives JPEG noise); resized nearest-neighbour;
 * - Predictions/: 8-bit grey (colour converted to luminance, alpha dropped); resized
 *   with sharp's linear kernel, an area-like average when shrinking (the kit used
 *   Pillow's default filter, bicubic since Pillow 7, then dithered its masks to 1 bit;
 *   neither is copied: nearest keeps masks binary, linear keeps probabilities in range).
 *
 * Each read reports the file's own size, for the size check against its ground truth.
 * Heavy (sharp): import this module lazily.
 */
import { readFile } from "node:fs/promises";
import sharp from "sharp";

import type { MaskEncoding } from "../data/dataset-manifest.js";
import { describeDecodeFailure } from "../data/image-files.js";
import { decodeScleraMask, type DecodedMask } from "../data/masks.js";
import { resizeNearest } from "./resample.js";

export interface ScoringSize {
  readonly width: number;
  readonly height: number;
}

export interface ReadImage {
  /** The file's own size. */
  readonly width: number;
  readonly height: number;
  /** One byte per pixel at the scoring size: 0/1 for masks, 0..255 for probabilities. */
  readonly pixels: Uint8Array;
}

export interface ReadBinarised extends ReadImage {
  /** The brightest grey level: 1..127 means a 0/1-style mask that scores as all background. */
  readonly maxLevel: number;
}

/** Thrown when a file cannot be decoded; the message says why, without the path. */
export class UnreadableImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnreadableImageError";
  }
}

/** `size` null: keep the file's own size. */
export async function readGroundTruth(file: string, size: ScoringSize | null, encoding: MaskEncoding = { kind: "binary" }): Promise<ReadImage> {
  let decoded: DecodedMask;
  try {
    decoded = await decodeScleraMask(file, encoding);
  } catch (error) {
    throw new UnreadableImageError(error instanceof Error ? error.message : String(error));
  }
  const target = size ?? decoded;
  return {
    width: decoded.width,
    height: decoded.height,
    pixels: resizeNearest(decoded.mask, decoded.width, decoded.height, target.width, target.height),
  };
}

export async function readBinarised(file: string, size: ScoringSize): Promise<ReadBinarised> {
  const grey = await readGrey(file);
  const mask = new Uint8Array(grey.pixels.length);
  let maxLevel = 0;
  for (let i = 0; i < mask.length; i++) {
    const level = grey.pixels[i] as number;
    if (level > maxLevel) maxLevel = level;
    mask[i] = level > 127 ? 1 : 0;
  }
  return { width: grey.width, height: grey.height, pixels: resizeNearest(mask, grey.width, grey.height, size.width, size.height), maxLevel };
}

export async function readProbabilities(file: string, size: ScoringSize): Promise<ReadImage> {
  const bytes = await readBytes(file);
  try {
    const image = sharp(bytes, { failOn: "error" });
    const meta = await image.metadata();
    const width = meta.width ?? 0;
    const height = meta.height ?? 0;
    const { data, info } = await image
      .removeAlpha()
      .toColourspace("b-w")
      .resize(size.width, size.height, { fit: "fill", kernel: "linear" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1 || data.length !== size.width * size.height) {
      throw new Error(`unexpected decoded layout: ${info.channels} channels, ${data.length} bytes`);
    }
    return { width, height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw new UnreadableImageError(await describeDecodeFailure(bytes, error));
  }
}

/** The whole image as 8-bit grey at its own size. */
async function readGrey(file: string): Promise<ReadImage> {
  const bytes = await readBytes(file);
  try {
    const { data, info } = await sharp(bytes, { failOn: "error" })
      .removeAlpha()
      .toColourspace("b-w")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`unexpected decoded layout: ${info.channels} channels`);
    return { width: info.width, height: info.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw new UnreadableImageError(await describeDecodeFailure(bytes, error));
  }
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UnreadableImageError(`cannot read: ${error instanceof Error ? error.message : String(error)}`);
  }
}
