/**
 * Hash-based procedural noise: value noise, fractal sums and ridges.
 *
 * Everything is a pure function of integer lattice coordinates and a 32-bit seed, so a
 * pixel's texture does not depend on the order in which pixels are visited.
 */

/** Hash of an integer lattice point and a seed to [0, 1). */
export function hash2(ix: number, iy: number, seed: number): number {
  let h = (Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ seed) | 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

/** Smoothly interpolated lattice noise in [0, 1]. */
export function valueNoise(x: number, y: number, seed: number): number {
  const fx = Math.floor(x);
  const fy = Math.floor(y);
  return interpolateCell(fx, fx + 1, fy, smoothstep(x - fx), smoothstep(y - fy), seed);
}

/** Fractal sum of value noise, centred on 0, roughly in [-1, 1]. */
export function fbm(x: number, y: number, seed: number, octaves: number): number {
  let sum = 0;
  let amp = 0.5;
  let norm = 0;
  let f = 1;
  for (let o = 0; o < octaves; o++) {
    sum += amp * (valueNoise(x * f + o * 17.3, y * f - o * 9.1, seed + o * 1013) * 2 - 1);
    norm += amp;
    amp *= 0.5;
    f *= 2.03;
  }
  return sum / norm;
}

/**
 * Thin connected ridges: 1 on the zero set of a noise field, falling to 0 at `width`.
 * Used for blood vessels and skin creases.
 */
export function ridge(x: number, y: number, seed: number, width: number): number {
  const n = valueNoise(x, y, seed) * 2 - 1 + 0.5 * (valueNoise(x * 2.1 + 5.2, y * 2.1 - 1.7, seed ^ 0x5f3759df) * 2 - 1);
  const d = Math.abs(n) / width;
  return d >= 1 ? 0 : (1 - d) * (1 - d);
}

/** Value noise in [0, 1] that repeats every `period` lattice cells along x (for angles). */
export function periodicNoise(x: number, y: number, period: number, seed: number): number {
  const fx = Math.floor(x);
  const fy = Math.floor(y);
  const x0 = ((fx % period) + period) % period;
  return interpolateCell(x0, (x0 + 1) % period, fy, smoothstep(x - fx), smoothstep(y - fy), seed);
}

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Bilinear blend of the hashed corners of one lattice cell (columns x0, x1; rows fy, fy + 1). */
function interpolateCell(x0: number, x1: number, fy: number, sx: number, sy: number, seed: number): number {
  const a = hash2(x0, fy, seed);
  const b = hash2(x1, fy, seed);
  const c = hash2(x0, fy + 1, seed);
  const d = hash2(x1, fy + 1, seed);
  const top = a + (b - a) * sx;
  const bottom = c + (d - c) * sx;
  return top + (bottom - top) * sy;
}
