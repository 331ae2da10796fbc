/**
 * Turning one source (an image file and its mask file) into the fixed-size pixels the
 * `resize` stage stores: the image as size x size RGB, its mask as size x size 0/1.
 * Imports sharp (through masks.ts too), so only `resize.run` loads this module.
 *
 * Order of operations, all in the frame a person sees the photo in:
 *   EXIF orientation -> stretch to size x size -> the item's transform: its flip, then
 *   its augmentation (geometric warp, photometric ops; see augment-ops.ts).
 * The aspect ratio is not kept (as the original MU-Net does); the original size is
 * returned so predictions can be scaled back.
 *
 * A flip commutes with the stretch: sharp's `flop()`/`flip()` before `resize` give the
 * same bytes as mirroring the resized result (the resize tests check this). So a
 * source shared by an original and its mirrored or augmented copies is decoded and
 * resized once, and each item gets its transformed copy of the result. (The
 * augmentation is defined on the resized pixels, so it is the same at any source size.)
 */
import { readFile } from "node:fs/promises";
import sharp from "sharp";

import type { ItemTransform, MaskEncoding } from "./dataset-manifest.js";
import { augmentPixels } from "./augment-ops.js";
import { InputFileError } from "./input-problems.js";
import { decodeScleraMask } from "./masks.js";

export type ImageKernel = "lanczos3" | "mitchell" | "cubic";

/** Masks are scaled as 0/255 grey with this kernel (an area-like average when shrinking), then thresholded. */
export const MASK_KERNEL = "linear";

export interface MaterialiseOptions {
  readonly size: number;
  readonly kernel: ImageKernel;
  /** A resized mask pixel is sclera when its coverage (0..1) is above this. */
  readonly maskThreshold: number;
}

export interface SourceFiles {
  /** Absolute paths. */
  readonly image: string;
  readonly mask: string;
  readonly maskEncoding: MaskEncoding;
}

export interface SourcePixels {
  /** size x size x 3 RGB, untransformed. */
  readonly image: Uint8Array;
  /** size x size, 0/1, untransformed. */
  readonly mask: Uint8Array;
  /** The image's size after EXIF orientation. */
  readonly width: number;
  readonly height: number;
}

/** Decodes and resizes one source. Problems with its files throw `InputFileError`; files are only read. */
export async function materialiseSource(files: SourceFiles, options: MaterialiseOptions): Promise<SourcePixels> {
  const [image, decodedMask] = await Promise.all([resizeImage(files.image, options), readMask(files)]);
  if (decodedMask.width !== image.width || decodedMask.height !== image.height) {
    throw new InputFileError(
      [files.mask, files.image],
      `mask is ${decodedMask.width}x${decodedMask.height} but its image is ${image.width}x${image.height} (after EXIF orientation)`,
    );
  }
  const mask = await resizeMask(decodedMask, options);
  return { image: image.pixels, mask, width: image.width, height: image.height };
}

/**
 * Fills one item's rows from its source's pixels: the flip, then the augmentation
 * (augment-ops.ts, with the JPEG round trip through sharp), as the item's transform says.
 */
export async function materialiseItem(
  pixels: Pick<SourcePixels, "image" | "mask">,
  image: Uint8Array,
  mask: Uint8Array,
  size: number,
  transform: ItemTransform | undefined,
): Promise<void> {
  copyTransformed(pixels.image, image, size, 3, transform);
  copyTransformed(pixels.mask, mask, size, 1, transform);
  const augmentation = transform?.augment;
  if (augmentation === undefined) return;
  const augmented = augmentPixels(image, mask, size, augmentation);
  image.set(augmentation.jpeg === null ? augmented.image : await jpegRoundTrip(augmented.image, size, augmentation.jpeg));
  mask.set(augmented.mask);
}

/** The pixels after encoding as JPEG at `quality` and decoding again (the artefacts of a compressed photo). */
async function jpegRoundTrip(rgb: Uint8Array, size: number, quality: number): Promise<Uint8Array> {
  const jpeg = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(jpeg).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`JPEG round trip gave ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
  }
  return data;
}

/**
 * Copies `source` (size x size x channels) into `out`, mirrored as `transform.flip` says:
 * horizontal mirrors left-right (sharp's `flop`), vertical top-bottom (sharp's `flip`).
 * Only the flip: an augmentation is materialiseItem's.
 */
export function copyTransformed(
  source: Uint8Array,
  out: Uint8Array,
  size: number,
  channels: 1 | 3,
  transform: ItemTransform | undefined,
): void {
  const row = size * channels;
  if (transform?.flip === undefined) {
    out.set(source);
  } else if (transform.flip === "vertical") {
    for (let y = 0; y < size; y++) out.set(source.subarray(y * row, (y + 1) * row), (size - 1 - y) * row);
  } else if (channels === 1) {
    for (let start = 0; start < source.length; start += row) {
      const line = out.subarray(start, start + row);
      line.set(source.subarray(start, start + row));
      line.reverse(); // in `out`: the source is shared by every item of the group
    }
  } else {
    // Hot loop (every mirrored image): indices stay inside the row, hence the `!`.
    for (let start = 0; start < source.length; start += row) {
      for (let a = start, b = start + row - 3; a < start + row; a += 3, b -= 3) {
        out[b] = source[a]!;
        out[b + 1] = source[a + 1]!;
        out[b + 2] = source[a + 2]!;
      }
    }
  }
}

async function resizeImage(
  file: string,
  options: MaterialiseOptions,
): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InputFileError([file], `cannot read image: ${messageOf(error)}`);
  }
  try {
    const pipeline = sharp(bytes);
    const meta = await pipeline.metadata();
    const { data, info } = await pipeline
      .rotate()
      .removeAlpha()
      .toColourspace("srgb")
      .resize(options.size, options.size, { fit: "fill", kernel: options.kernel })
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== options.size || info.height !== options.size) {
      throw new Error(`expected ${options.size}x${options.size}x3, decoder gave ${info.width}x${info.height}x${info.channels}`);
    }
    return { pixels: data, width: meta.autoOrient.width, height: meta.autoOrient.height };
  } catch (error) {
    throw new InputFileError([file], `cannot read image: ${messageOf(error)}`);
  }
}

async function readMask(files: SourceFiles): Promise<{ width: number; height: number; mask: Uint8Array }> {
  try {
    return await decodeScleraMask(files.mask, files.maskEncoding);
  } catch (error) {
    throw new InputFileError([files.mask], `cannot read mask: ${messageOf(error)}`);
  }
}

async function resizeMask(
  decoded: { width: number; height: number; mask: Uint8Array },
  options: MaterialiseOptions,
): Promise<Uint8Array> {
  const { width, height, mask } = decoded;
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) if (mask[i] !== 0) grey[i] = 255;
  const { data, info } = await sharp(grey, { raw: { width, height, channels: 1 } })
    .toColourspace("b-w")
    .resize(options.size, options.size, { fit: "fill", kernel: MASK_KERNEL })
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 || info.width !== options.size || info.height !== options.size) {
    throw new Error(`mask resize gave ${info.width}x${info.height}x${info.channels}, expected ${options.size}x${options.size}x1`);
  }
  const cut = options.maskThreshold * 255;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < out.length; i++) if (data[i]! > cut) out[i] = 1;
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
