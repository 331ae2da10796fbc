/**
 * A picture for people to look at: the photo with the predicted sclera tinted and the
 * ground truth's outline drawn over it, all at the photo's own size.
 */

/** Tint of predicted sclera pixels, and how much of it replaces the photo. */
export const PREDICTION_TINT: readonly [number, number, number] = [255, 0, 200];
export const TINT_OPACITY = 0.45;
/** Colour of the ground truth's outline (pixels of the truth next to a non-sclera pixel). */
export const TRUTH_OUTLINE: readonly [number, number, number] = [0, 255, 0];

/**
 * `rgb`: width x height x 3; `predicted`: width x height, non-zero = sclera; `truth`:
 * the same, or null. Returns a new RGB buffer.
 */
export function composeOverlay(rgb: Uint8Array, predicted: Uint8Array, truth: Uint8Array | null, width: number, height: number): Uint8Array {
  const pixels = width * height;
  if (rgb.length !== pixels * 3 || predicted.length !== pixels || (truth !== null && truth.length !== pixels)) {
    throw new RangeError(`overlay of ${width}x${height} needs ${pixels * 3} RGB bytes and ${pixels}-pixel masks`);
  }
  const out = new Uint8Array(rgb);
  const [tr, tg, tb] = PREDICTION_TINT;
  for (let i = 0; i < pixels; i++) {
    if (predicted[i] === 0) continue;
    const k = i * 3;
    out[k] = Math.round(out[k]! * (1 - TINT_OPACITY) + tr * TINT_OPACITY);
    out[k + 1] = Math.round(out[k + 1]! * (1 - TINT_OPACITY) + tg * TINT_OPACITY);
    out[k + 2] = Math.round(out[k + 2]! * (1 - TINT_OPACITY) + tb * TINT_OPACITY);
  }
  if (truth !== null) {
    const [or, og, ob] = TRUTH_OUTLINE;
    const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < width && y < height && truth[y * width + x] !== 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!inside(x, y) || (inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1))) continue;
        const k = (y * width + x) * 3;
        out[k] = or;
        out[k + 1] = og;
        out[k + 2] = ob;
      }
    }
  }
  return out;
}
