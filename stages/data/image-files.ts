/**
 * Image files of a dataset: which names count as images, and checking that an image
 * decodes completely (a truncated JPEG has a valid header, so reading the header alone
 * is not enough).
 */
import { createHash } from "node:crypto";
import sharp from "sharp";

export { IMAGE_EXTENSIONS, baseName, isImageName } from "./image-names.js";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Thrown when bytes are not a complete, decodable image. */
export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageDecodeError";
  }
}

/** Decodes the whole image (so truncation is caught) and returns its size. */
export async function inspectImage(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  try {
    const { info } = await sharp(bytes, { failOn: "error" }).raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height };
  } catch (error) {
    throw new ImageDecodeError(await describeDecodeFailure(bytes, error));
  }
}

/**
 * Why sharp could not decode `bytes`, in words that do not depend on libvips' message
 * alone: its error buffer is shared between threads, so under concurrency a failure
 * can arrive as "Unknown error" or with another file's text.
 */
export async function describeDecodeFailure(bytes: Uint8Array, error: unknown): Promise<string> {
  const raw = error instanceof Error ? error.message : String(error);
  const detail = raw === "" || /unknown error/i.test(raw) ? "" : ` (${raw})`;
  let format: string | undefined;
  try {
    format = (await sharp(bytes).metadata()).format;
  } catch {
    return "not a readable image: unrecognised format or damaged header";
  }
  return `not a readable image: truncated or corrupt ${format ?? "image"} data${detail}`;
}
