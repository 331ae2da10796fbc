/**
 * Images go into a report as `data:` URIs of small JPEGs, so a page with a dozen
 * overlays stays well under a megabyte of pictures and needs no files beside it.
 */

/** Width of an embedded image in pixels (the page shows them about this wide). */
export const THUMBNAIL_WIDTH = 240;

export interface Thumbnail {
  readonly src: string;
  readonly width: number;
  readonly height: number;
}

/** A JPEG no wider than THUMBNAIL_WIDTH (never enlarged), as a data URI. */
export async function thumbnail(file: string): Promise<Thumbnail> {
  const { default: sharp } = await import("sharp");
  const { data, info } = await sharp(file)
    .rotate()
    .resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true })
    .flatten({ background: "#ffffff" })
    .jpeg({ quality: 82 })
    .toBuffer({ resolveWithObject: true });
  return { src: `data:image/jpeg;base64,${data.toString("base64")}`, width: info.width, height: info.height };
}
