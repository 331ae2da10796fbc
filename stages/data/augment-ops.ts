/**
 * The pixel side of the `augment` stage: one drawn `Augmentation` applied to a
 * size x size RGB image and its 0/1 mask, in pure JS (no sharp; the JPEG round trip,
 * which needs an encoder, is materialise.ts's).
 *
 * Order: the geometric warp moves image and mask together (so they stay aligned), then
 * the photometric ops touch the image only: brightness, contrast, gamma, hue,
 * saturation (each clamped to 0..255), Gaussian blur, Gaussian noise; rounded to bytes
 * once at the end. Ops at their identity value are skipped, so an augmentation that
 * draws nothing gives back the same bytes.
 */
import type { Augmentation } from "./dataset-manifest.js";
import { makeRandom } from "./split.js";

export interface AugmentedPixels {
  /** size x size x 3 RGB. */
  readonly image: Uint8Array;
  /** size x size, 0/1. */
  readonly mask: Uint8Array;
}

/** The augmentation applied to copies of `image` and `mask`; the inputs are left as they are. */
export function augmentPixels(image: Uint8Array, mask: Uint8Array, size: number, a: Augmentation): AugmentedPixels {
  const warped = isIdentityWarp(a) ? { image: Float32Array.from(image), mask: Uint8Array.from(mask) } : warp(image, mask, size, a);
  const rgb = warped.image;
  if (a.brightness !== 1) scaleValues(rgb, a.brightness);
  if (a.contrast !== 1) stretchContrast(rgb, a.contrast);
  if (a.gamma !== 1) applyGamma(rgb, a.gamma);
  if (a.hue !== 0) rotateHue(rgb, a.hue);
  if (a.saturation !== 1) scaleSaturation(rgb, a.saturation);
  if (a.blur !== null && a.blur > 0) gaussianBlur(rgb, size, a.blur);
  if (a.noise > 0) addNoise(rgb, a.noise, a.noiseSeed);
  return { image: toBytes(rgb), mask: warped.mask };
}

function isIdentityWarp(a: Augmentation): boolean {
  return a.rotate === 0 && a.scale === 1 && a.tx === 0 && a.ty === 0;
}

/**
 * One inverse affine map per output pixel (its centre back into the source): bilinear
 * for the image, nearest for the mask (which stays 0/1); outside the source is black
 * and not sclera. Forward: rotate clockwise about the centre, zoom by `scale`, shift by
 * (tx, ty) sides.
 */
export function warp(image: Uint8Array, mask: Uint8Array, size: number, a: Augmentation): { image: Float32Array; mask: Uint8Array } {
  const outImage = new Float32Array(size * size * 3);
  const outMask = new Uint8Array(size * size);
  const angle = (a.rotate * Math.PI) / 180;
  const cos = Math.cos(angle) / a.scale;
  const sin = Math.sin(angle) / a.scale;
  const centre = size / 2;
  for (let y = 0; y < size; y++) {
    const dy = y + 0.5 - centre - a.ty * size;
    for (let x = 0; x < size; x++) {
      const dx = x + 0.5 - centre - a.tx * size;
      // The inverse rotation (transpose) and zoom, back to the source's pixel centres.
      const sx = centre + cos * dx + sin * dy;
      const sy = centre - sin * dx + cos * dy;
      const nx = Math.floor(sx);
      const ny = Math.floor(sy);
      if (nx >= 0 && nx < size && ny >= 0 && ny < size) outMask[y * size + x] = mask[ny * size + nx]!;
      sampleBilinear(image, size, sx - 0.5, sy - 0.5, outImage, (y * size + x) * 3);
    }
  }
  return { image: outImage, mask: outMask };
}

/** Writes the RGB at (fx, fy) in index space into `out[at..at+2]`; neighbours outside count as black. */
function sampleBilinear(image: Uint8Array, size: number, fx: number, fy: number, out: Float32Array, at: number): void {
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  if (x0 < -1 || y0 < -1 || x0 >= size || y0 >= size) return;
  const wx = fx - x0;
  const wy = fy - y0;
  accumulate(image, size, x0, y0, (1 - wx) * (1 - wy), out, at);
  accumulate(image, size, x0 + 1, y0, wx * (1 - wy), out, at);
  accumulate(image, size, x0, y0 + 1, (1 - wx) * wy, out, at);
  accumulate(image, size, x0 + 1, y0 + 1, wx * wy, out, at);
}

function accumulate(image: Uint8Array, size: number, x: number, y: number, weight: number, out: Float32Array, at: number): void {
  if (weight === 0 || x < 0 || y < 0 || x >= size || y >= size) return;
  const from = (y * size + x) * 3;
  out[at] = out[at]! + weight * image[from]!;
  out[at + 1] = out[at + 1]! + weight * image[from + 1]!;
  out[at + 2] = out[at + 2]! + weight * image[from + 2]!;
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Rec. 709 luminance weights, as CSS filters use them. */
const LUMA = [0.2126, 0.7152, 0.0722] as const;

function scaleValues(rgb: Float32Array, factor: number): void {
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp(rgb[i]! * factor);
}

function stretchContrast(rgb: Float32Array, factor: number): void {
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) sum += LUMA[0] * rgb[i]! + LUMA[1] * rgb[i + 1]! + LUMA[2] * rgb[i + 2]!;
  const mean = sum / (rgb.length / 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp(mean + (rgb[i]! - mean) * factor);
}

/** Points the gamma curve is tabulated at over 0..255 (a power per value would cost more than every other op). */
const GAMMA_STEPS = 4096;

/** 255 * (v / 255) ^ gamma, interpolated linearly in a table (off by well under 1/10 of a level). */
function applyGamma(rgb: Float32Array, gamma: number): void {
  const table = new Float32Array(GAMMA_STEPS + 1);
  for (let i = 0; i <= GAMMA_STEPS; i++) table[i] = 255 * (i / GAMMA_STEPS) ** gamma;
  const scale = GAMMA_STEPS / 255;
  for (let i = 0; i < rgb.length; i++) {
    const at = rgb[i]! * scale;
    const low = Math.min(GAMMA_STEPS - 1, Math.floor(at));
    const t = at - low;
    rgb[i] = table[low]! * (1 - t) + table[low + 1]! * t;
  }
}

/** The CSS `hue-rotate` matrix: a rotation about the grey axis that keeps luminance. */
function rotateHue(rgb: Float32Array, degrees: number): void {
  const c = Math.cos((degrees * Math.PI) / 180);
  const s = Math.sin((degrees * Math.PI) / 180);
  const m = [
    0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928,
    0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.14, 0.072 - c * 0.072 - s * 0.283,
    0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072,
  ] as const;
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]!;
    const g = rgb[i + 1]!;
    const b = rgb[i + 2]!;
    rgb[i] = clamp(m[0] * r + m[1] * g + m[2] * b);
    rgb[i + 1] = clamp(m[3] * r + m[4] * g + m[5] * b);
    rgb[i + 2] = clamp(m[6] * r + m[7] * g + m[8] * b);
  }
}

function scaleSaturation(rgb: Float32Array, factor: number): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const luma = LUMA[0] * rgb[i]! + LUMA[1] * rgb[i + 1]! + LUMA[2] * rgb[i + 2]!;
    for (let c = i; c < i + 3; c++) rgb[c] = clamp(luma + (rgb[c]! - luma) * factor);
  }
}

/** Separable Gaussian (radius 3 sigma), edges repeated: along rows, then along columns. */
export function gaussianBlur(rgb: Float32Array, size: number, sigma: number): void {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) total += kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] = kernel[i]! / total;
  // Pixel offsets of each tap for every position along a line, the edge repeated.
  const taps = new Int32Array(size * kernel.length);
  for (let p = 0; p < size; p++) {
    for (let k = -radius; k <= radius; k++) taps[p * kernel.length + k + radius] = Math.min(size - 1, Math.max(0, p + k));
  }
  const line = new Float32Array(size * 3);
  blurLines(rgb, size, kernel, taps, line, 3, size * 3); // rows: pixels 3 apart, rows size * 3 apart
  blurLines(rgb, size, kernel, taps, line, size * 3, 3); // columns
}

/** Blurs every line: pixel p of line `l` is at `l * lineStride + p * pixelStride`. */
function blurLines(rgb: Float32Array, size: number, kernel: Float32Array, taps: Int32Array, line: Float32Array, pixelStride: number, lineStride: number): void {
  const width = kernel.length;
  for (let l = 0; l < size; l++) {
    const start = l * lineStride;
    for (let p = 0; p < size; p++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < width; k++) {
        const at = start + taps[p * width + k]! * pixelStride;
        const w = kernel[k]!;
        r += w * rgb[at]!;
        g += w * rgb[at + 1]!;
        b += w * rgb[at + 2]!;
      }
      line[p * 3] = r;
      line[p * 3 + 1] = g;
      line[p * 3 + 2] = b;
    }
    for (let p = 0; p < size; p++) {
      const at = start + p * pixelStride;
      rgb[at] = line[p * 3]!;
      rgb[at + 1] = line[p * 3 + 1]!;
      rgb[at + 2] = line[p * 3 + 2]!;
    }
  }
}

/** Adds N(0, std^2) to every channel value, from the seeded generator (Box-Muller). */
function addNoise(rgb: Float32Array, std: number, seed: number): void {
  const random = makeRandom(seed);
  for (let i = 0; i < rgb.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random())); // 1 - u: never log(0)
    const angle = 2 * Math.PI * random();
    rgb[i] = rgb[i]! + std * radius * Math.cos(angle);
    if (i + 1 < rgb.length) rgb[i + 1] = rgb[i + 1]! + std * radius * Math.sin(angle);
  }
}

function toBytes(rgb: Float32Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = Math.round(clamp(rgb[i]!));
  return out;
}
