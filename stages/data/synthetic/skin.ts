/**
 * The face around the eyes: skin tone and texture (mottling, redness, pores, fine
 * lines), the shading of a face (eye sockets, brow bone, nose, cheek) and eyebrows.
 *
 * Works in the main eye's canonical frame; the partner eye sits at u = -eyeSpacing,
 * mirrored, so its socket and brow come from the same functions. Smooth fields are
 * evaluated on a coarse grid and interpolated; only fine detail runs per pixel.
 */
import { clamp, smoothstep, type EyeFrame } from "./geometry.js";
import { fbm, ridge, valueNoise } from "./noise.js";
import type { BrowLook, FaceLook } from "./scene.js";

/** Brightness multiplier and redness of the smooth part of the face at (u, v). */
function smoothFields(face: FaceLook, u: number, v: number, out: Float32Array, at: number): void {
  const seed = face.seed;
  let k = 1 + 2 * face.textureAmp * fbm(u * 0.9, v * 0.9, seed, 3);
  const red = face.redness * Math.max(0, fbm(u * 0.7 + 11, v * 0.7, seed + 3, 2) + 0.1);
  const s = face.eyeSpacing;
  for (let e = 0; e < 2; e++) {
    const eu = e === 0 ? u : -(u + s);
    const du = eu / 1.45;
    const dv = (v + 0.05) / 0.95;
    k *= 1 - face.socketDark * Math.exp(-1.2 * (du * du + dv * dv));
    const bb = (v + 1.25) / 0.35;
    k *= 1 + face.browBoneLight * Math.exp(-bb * bb - (eu / 1.8) ** 2);
  }
  const nose = (u + s / 2) / 0.45;
  k *= 1 + face.noseLight * Math.exp(-nose * nose) * smoothstep(-1.6, -0.4, v);
  const side = (u + s / 2 + 0.75) / 0.4;
  k *= 1 - 0.5 * face.noseLight * Math.exp(-side * side) * smoothstep(-1.2, 0.2, v);
  const cheek = (v - 1.6) / 0.6;
  k *= 1 + 0.07 * Math.exp(-cheek * cheek);
  out[at] = k;
  out[at + 1] = red;
}

/** Fine lines under the eye and at its outer corner (0..1), in one eye's canonical frame. */
function fineLines(seed: number, eu: number, v: number): number {
  let sum = 0;
  if (v > 0.25 && v < 1.3 && eu > -1.0 && eu < 1.2) {
    sum += ridge(eu * 2.2, v * 8, seed + 11, 0.05) * smoothstep(0.25, 0.5, v) * smoothstep(1.1, 0.4, Math.abs(eu - 0.1)) * smoothstep(1.3, 0.9, v);
  }
  if (eu > 1.05 && eu < 1.9) {
    sum += ridge(eu * 6, (v - 0.1 * eu) * 2.5, seed + 13, 0.06) * smoothstep(1.05, 1.3, eu) * smoothstep(1.9, 1.4, eu);
  }
  return sum;
}

/** Renders the face into `rgb` (interleaved floats) through the main eye's frame. */
export function drawFace(face: FaceLook, f: EyeFrame, width: number, height: number, rgb: Float32Array): void {
  const c = Math.cos(f.angle);
  const s = Math.sin(f.angle);
  const px = f.scale;
  const toU = (x: number, y: number): number => (f.mirror * (c * (x - f.cx) + s * (y - f.cy))) / f.scale;
  const toV = (x: number, y: number): number => (-s * (x - f.cx) + c * (y - f.cy)) / f.scale;
  // Coarse grid: about 1/25 unit per cell, at most 4 px.
  const step = clamp(Math.round(px / 25), 1, 4);
  const gw = Math.ceil(width / step) + 2;
  const gh = Math.ceil(height / step) + 2;
  const grid = new Float32Array(gw * gh * 2);
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      const x = gx * step + 0.5;
      const y = gy * step + 0.5;
      smoothFields(face, toU(x, y), toV(x, y), grid, (gy * gw + gx) * 2);
    }
  }
  const poreF = Math.min(33, px / 1.2);
  const poreAmp = face.poreAmp * clamp(px / 120, 0.25, 1);
  const lineAmp = 0.05 * clamp((px - 60) / 100, 0, 1);
  const sp = face.eyeSpacing;
  const brow = face.brow;
  for (let y = 0; y < height; y++) {
    const gy = Math.floor(y / step);
    const ty = (y - gy * step) / step;
    for (let x = 0; x < width; x++) {
      const gx = Math.floor(x / step);
      const tx = (x - gx * step) / step;
      const g00 = (gy * gw + gx) * 2;
      const g10 = g00 + 2;
      const g01 = g00 + gw * 2;
      const g11 = g01 + 2;
      const w00 = (1 - tx) * (1 - ty);
      const w10 = tx * (1 - ty);
      const w01 = (1 - tx) * ty;
      const w11 = tx * ty;
      let k = grid[g00]! * w00 + grid[g10]! * w10 + grid[g01]! * w01 + grid[g11]! * w11;
      const red = grid[g00 + 1]! * w00 + grid[g10 + 1]! * w10 + grid[g01 + 1]! * w01 + grid[g11 + 1]! * w11;
      const u = toU(x + 0.5, y + 0.5);
      const v = toV(x + 0.5, y + 0.5);
      k *= 1 + poreAmp * (valueNoise(u * poreF, v * poreF, face.seed + 7) * 2 - 1);
      k *= 1 - lineAmp * (fineLines(face.seed, u, v) + fineLines(face.seed, -(u + sp), v));
      let r = face.skin[0] * k * (1 + 0.06 * red);
      let g = face.skin[1] * k * (1 - 0.14 * red);
      let b = face.skin[2] * k * (1 - 0.12 * red);
      if (brow !== null && v < brow.v + 0.4) {
        const a = Math.max(browAlpha(brow, u, v, px), browAlpha(brow, -(u + sp), v, px));
        r += (brow.colour[0] - r) * a;
        g += (brow.colour[1] - g) * a;
        b += (brow.colour[2] - b) * a;
      }
      const i = (y * width + x) * 3;
      rgb[i] = r;
      rgb[i + 1] = g;
      rgb[i + 2] = b;
    }
  }
}

/** Opacity of the eyebrow at (u, v): a tapering arched band filled with slanted hairs. */
function browAlpha(brow: BrowLook, u: number, v: number, pxPerUnit: number): number {
  if (u < -1.5 || u > 1.9) return 0;
  const centre = brow.v - brow.arch * Math.max(0, 1 - ((u - 0.25) / 1.5) ** 2);
  const th = brow.thickness * (1 - 0.55 * smoothstep(-0.6, 1.6, u));
  if (Math.abs(v - centre) > th) return 0;
  const ends = smoothstep(-1.45, -1.0, u) * smoothstep(1.85, 1.3, u);
  const edge = th * 0.5 * (1 + 0.35 * (valueNoise(u * 6, v * 6, brow.seed + 1) - 0.5));
  const band = smoothstep(edge, edge * 0.45, Math.abs(v - centre));
  if (band <= 0) return 0;
  // Hairs slant up and out at the nasal end and lie flatter toward the tail.
  const ang = -1.15 + 0.9 * smoothstep(-1.2, 1.6, u);
  const ca = Math.cos(ang);
  const sa = Math.sin(ang);
  const along = u * ca + v * sa;
  const across = -u * sa + v * ca;
  const fAcross = Math.min(70, pxPerUnit / 1.6);
  const hair = valueNoise(along * 5, across * fAcross, brow.seed);
  return brow.density * band * ends * (0.3 + 0.7 * smoothstep(0.3, 0.75, hair));
}
