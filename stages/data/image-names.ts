/**
 * Which file names count as images. No sharp here: the source layouts scan folders with
 * these, and the stage registry imports the layouts.
 */
import path from "node:path";

/** Extensions (lower case) that are read as images; every other file is ignored. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"]);

export function isImageName(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/** The file name without its extension. */
export function baseName(file: string): string {
  return path.basename(file, path.extname(file));
}
