/**
 * The camera: exposure, colour cast, a brightness gradient and vignette, saturation,
 * tone curve and black level, lens/focus blur, then sensor noise. Operates in place on
 * an interleaved float RGB buffer; none of it touches the labels.
 */
import { mix32 } from "./prng.js";
import type { CameraLook } from "./scene.js";

const TONE_STEPS = 1024;

/** The tone curve (gamma, then black level) tabulated over [0, 1]; inputs above 1 clip anyway. */
function toneTable(cam: CameraLook): Float64Array {
  const t = new Float64Array(TONE_STEPS + 2);
  for (let i = 0; i <= TONE_STEPS + 1; i++) t[i] = cam.blackLevel + (1 - cam.blackLevel) * Math.min(1, i / TONE_STEPS) ** cam.gamma;
  return t;
}

function tone(t: Float64Array, c: number): number {
  if (c <= 0) return t[0]!;
  if (c >= 1) return t[TONE_STEPS]! + (c - 1);
  const f = c * TONE_STEPS;
  const i = Math.floor(f);
  return t[i]! + (t[i + 1]! - t[i]!) * (f - i);
}

export function applyLighting(cam: CameraLook, width: number, height: number, rgb: Float32Array): void {
  const lut = toneTable(cam);
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) sum += 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
  // Capped: a very dark face is not pushed all the way to the target (nor its sclera to white).
  const gain = Math.min(1.8, cam.exposure / Math.max(0.02, sum / (rgb.length / 3)));
  const gx = Math.cos(cam.gradientAngle);
  const gy = Math.sin(cam.gradientAngle);
  for (let y = 0; y < height; y++) {
    const ny = (y / height - 0.5) * 2;
    for (let x = 0; x < width; x++) {
      const nx = (x / width - 0.5) * 2;
      const e = gain * (1 + 0.5 * cam.gradient * (nx * gx + ny * gy)) * (1 - 0.5 * cam.vignette * (nx * nx + ny * ny));
      const i = (y * width + x) * 3;
      const r = rgb[i]! * e * cam.cast[0];
      const g = rgb[i + 1]! * e * cam.cast[1];
      const b = rgb[i + 2]! * e * cam.cast[2];
      const l = 0.299 * r + 0.587 * g + 0.114 * b;
      rgb[i] = tone(lut, l + (r - l) * cam.saturation);
      rgb[i + 1] = tone(lut, l + (g - l) * cam.saturation);
      rgb[i + 2] = tone(lut, l + (b - l) * cam.saturation);
    }
  }
}

/** Normalised 1-D Gaussian kernel of standard deviation `sigma` px. */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(sigma * 3));
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = w;
    sum += w;
  }
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/** Separable Gaussian blur with clamped edges. */
export function gaussianBlur(rgb: Float32Array, width: number, height: number, sigma: number): void {
  if (sigma < 0.2) return;
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(rgb.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let a = 0;
      let b = 0;
      let c = 0;
      for (let i = -r; i <= r; i++) {
        const xx = x + i < 0 ? 0 : x + i >= width ? width - 1 : x + i;
        const w = k[i + r]!;
        const j = (row + xx) * 3;
        a += rgb[j]! * w;
        b += rgb[j + 1]! * w;
        c += rgb[j + 2]! * w;
      }
      const o = (row + x) * 3;
      tmp[o] = a;
      tmp[o + 1] = b;
      tmp[o + 2] = c;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let a = 0;
      let b = 0;
      let c = 0;
      for (let i = -r; i <= r; i++) {
        const yy = y + i < 0 ? 0 : y + i >= height ? height - 1 : y + i;
        const w = k[i + r]!;
        const j = (yy * width + x) * 3;
        a += tmp[j]! * w;
        b += tmp[j + 1]! * w;
        c += tmp[j + 2]! * w;
      }
      const o = (y * width + x) * 3;
      rgb[o] = a;
      rgb[o + 1] = b;
      rgb[o + 2] = c;
    }
  }
}

/**
 * Signal-dependent sensor noise: a luminance part shared by the channels and a chroma
 * part per channel, each mixing pixel-level grain and grain correlated over 2x2 pixels
 * (as demosaicing leaves it). Uniforms come from an xorshift32 stream in raster order,
 * which is deterministic and much cheaper than hashing every pixel.
 */
export function addSensorNoise(cam: CameraLook, width: number, height: number, rgb: Float32Array): void {
  if (cam.noise <= 0) return;
  let state = mix32(cam.seed) | 1;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  // Sum of two uniforms, scaled to unit variance (a triangular distribution).
  const tri = (): number => (uniform() + uniform() - 1) * 2.449489742783178;
  const cw = (width >> 1) + 1;
  const ch = (height >> 1) + 1;
  const coarse = new Float32Array(cw * ch * 4);
  for (let i = 0; i < coarse.length; i++) coarse[i] = tri();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const g = ((y >> 1) * cw + (x >> 1)) * 4;
      const l = 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
      const sd = cam.noise * (0.55 + 0.9 * Math.sqrt(Math.max(0, l)));
      const lum = (0.8 * tri() + 0.6 * coarse[g]!) * (1 - cam.chroma);
      for (let c = 0; c < 3; c++) {
        const chroma = 0.8 * tri() + 0.6 * coarse[g + 1 + c]!;
        rgb[i + c] = rgb[i + c]! + sd * (lum + chroma * cam.chroma);
      }
    }
  }
}

export function applyCamera(cam: CameraLook, width: number, height: number, rgb: Float32Array): void {
  applyLighting(cam, width, height, rgb);
  gaussianBlur(rgb, width, height, cam.blurPx);
  addSensorNoise(cam, width, height, rgb);
}
