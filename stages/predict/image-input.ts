/**
 * Images that come as files rather than tensors (a folder given to `predict`, or the
 * arguments of `mu-pipe predict`): finding them, and decoding each the way the resize
 * stage does (EXIF orientation, RGB, stretched to size x size with the same kernel),
 * so the model sees the same pixels it would through the pipeline.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";

import { describeDecodeFailure, isImageName } from "../data/image-files.js";
import { InputFileError } from "../data/input-problems.js";
import type { ImageKernel } from "../data/materialise.js";

/** Thrown when the given paths hold no image to predict; says where it looked. */
export class NoImagesError extends Error {
  constructor(readonly searched: readonly string[]) {
    super(`no images found in ${searched.join(", ")} (looked for ${[".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"].join(" ")} files)`);
    this.name = "NoImagesError";
  }
}

/**
 * The image files `inputs` name: a file is taken as given, a folder contributes the
 * image files directly inside it (by extension, sorted by name; not subfolders).
 * Paths resolve against `baseDir`. A path that does not exist throws InputFileError.
 */
export async function findImages(inputs: readonly string[], baseDir: string): Promise<string[]> {
  const found: string[] = [];
  const searched: string[] = [];
  for (const input of inputs) {
    const resolved = path.resolve(baseDir, input);
    const info = await stat(resolved).catch(() => null);
    if (info === null) throw new InputFileError([resolved], "no such file or folder");
    if (info.isDirectory()) {
      searched.push(resolved);
      const names = (await readdir(resolved, { withFileTypes: true }))
        .filter((entry) => entry.isFile() && isImageName(entry.name))
        .map((entry) => entry.name)
        .sort();
      found.push(...names.map((name) => path.join(resolved, name)));
    } else {
      found.push(resolved);
    }
  }
  const unique = [...new Set(found)];
  if (unique.length === 0) throw new NoImagesError(searched);
  return unique;
}

export interface ModelImage {
  /** size x size x 3 RGB bytes. */
  readonly pixels: Uint8Array;
  /** The image's size after EXIF orientation: where the prediction maps back to. */
  readonly width: number;
  readonly height: number;
}

/** Decodes `file` and stretches it to size x size RGB as the resize stage does. Throws InputFileError naming the file. */
export async function readImageForModel(file: string, size: number, kernel: ImageKernel): Promise<ModelImage> {
  const bytes = await readImageBytes(file);
  try {
    const pipeline = sharp(bytes, { failOn: "error" });
    const meta = await pipeline.metadata();
    const { data, info } = await pipeline
      .rotate()
      .removeAlpha()
      .toColourspace("srgb")
      .resize(size, size, { fit: "fill", kernel })
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== size || info.height !== size) {
      throw new Error(`expected ${size}x${size}x3, decoder gave ${info.width}x${info.height}x${info.channels}`);
    }
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: meta.autoOrient.width, height: meta.autoOrient.height };
  } catch (error) {
    throw new InputFileError([file], `cannot read image: ${await describeDecodeFailure(bytes, error)}`);
  }
}

/** The image at its own size after EXIF orientation, as RGB bytes (for overlays). */
export async function readOrientedRgb(file: string): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  const bytes = await readImageBytes(file);
  try {
    const { data, info } = await sharp(bytes).rotate().removeAlpha().toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (error) {
    throw new InputFileError([file], `cannot read image: ${await describeDecodeFailure(bytes, error)}`);
  }
}

async function readImageBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new InputFileError([file], `cannot read image: ${error instanceof Error ? error.message : String(error)}`);
  }
}
