/**
 * Probability maps as the submission stores them: 8-bit levels k = round(p * 255), so
 * a level k stands for the probability k / 255. A pixel is predicted sclera when
 * k / 255 >= threshold, the rule the threshold sweep (stages/eval) counts pixels by,
 * so a Binarised mask is exactly its Predictions map cut at the threshold.
 */

/** The 8-bit level of a probability (clamped to [0, 1]; NaN counts as 0). */
export function probabilityLevel(p: number): number {
  if (!(p > 0)) return 0;
  if (p >= 1) return 255;
  return Math.round(p * 255);
}

/** 8-bit levels of a probability map, same layout. */
export function probabilityLevels(probabilities: Float32Array): Uint8Array {
  const out = new Uint8Array(probabilities.length);
  for (let i = 0; i < out.length; i++) out[i] = probabilityLevel(probabilities[i] as number);
  return out;
}

/**
 * Resizes a probability map (row-major, one channel) with bilinear interpolation and
 * half-pixel centres (as TensorFlow's `resize_bilinear(half_pixel_centers=True)`,
 * PIL and OpenCV do), returning 8-bit levels. The 224x224 map of a stretched image
 * maps back to the image's original width x height this way.
 */
export function resizeProbabilityMap(probabilities: Float32Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (probabilities.length !== width * height) {
    throw new RangeError(`probability map has ${probabilities.length} values, expected ${width}x${height} = ${width * height}`);
  }
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new RangeError(`output size must be positive integers, got ${outWidth}x${outHeight}`);
  }
  const xs = samplePositions(width, outWidth);
  const ys = samplePositions(height, outHeight);
  const out = new Uint8Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const top = ys.low[y]! * width;
    const bottom = ys.high[y]! * width;
    const wy = ys.weight[y]!;
    const row = y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const left = xs.low[x]!;
      const right = xs.high[x]!;
      const wx = xs.weight[x]!;
      const upper = probabilities[top + left]! + (probabilities[top + right]! - probabilities[top + left]!) * wx;
      const lower = probabilities[bottom + left]! + (probabilities[bottom + right]! - probabilities[bottom + left]!) * wx;
      out[row + x] = probabilityLevel(upper + (lower - upper) * wy);
    }
  }
  return out;
}

/** For each output coordinate: the two source samples around its centre and the weight of the second. */
function samplePositions(size: number, outSize: number): { low: Int32Array; high: Int32Array; weight: Float64Array } {
  const low = new Int32Array(outSize);
  const high = new Int32Array(outSize);
  const weight = new Float64Array(outSize);
  const scale = size / outSize;
  for (let i = 0; i < outSize; i++) {
    const at = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), size - 1);
    const l = Math.floor(at);
    low[i] = l;
    high[i] = Math.min(l + 1, size - 1);
    weight[i] = at - l;
  }
  return { low, high, weight };
}

/** A 0/255 mask: 255 where level / 255 >= threshold. */
export function binarise(levels: Uint8Array, threshold: number): Uint8Array {
  const table = new Uint8Array(256);
  for (let k = 0; k < 256; k++) table[k] = k / 255 >= threshold ? 255 : 0;
  const out = new Uint8Array(levels.length);
  for (let i = 0; i < out.length; i++) out[i] = table[levels[i]!]!;
  return out;
}
