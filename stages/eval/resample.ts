/**
 * Nearest-neighbour resizing of one-byte-per-pixel masks. Binary masks keep their two
 * values (no grey edge to threshold again); each output pixel takes the input pixel
 * under its centre: source x = floor((x + 0.5) * sourceWidth / width), likewise y.
 */

export function resizeNearest(source: Uint8Array, sourceWidth: number, sourceHeight: number, width: number, height: number): Uint8Array {
  if (source.length !== sourceWidth * sourceHeight) {
    throw new RangeError(`mask has ${source.length} pixels, expected ${sourceWidth}x${sourceHeight}`);
  }
  if (sourceWidth === width && sourceHeight === height) return source;
  const columns = new Int32Array(width);
  for (let x = 0; x < width; x++) columns[x] = Math.min(sourceWidth - 1, Math.floor(((x + 0.5) * sourceWidth) / width));
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = Math.min(sourceHeight - 1, Math.floor(((y + 0.5) * sourceHeight) / height)) * sourceWidth;
    for (let x = 0; x < width; x++) out[y * width + x] = source[row + (columns[x] as number)] as number;
  }
  return out;
}
