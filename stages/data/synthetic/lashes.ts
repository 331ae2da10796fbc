/**
 * Eyelashes: tapered curved strokes rooted along the lid margins, rasterised with
 * anti-aliasing into an opacity layer. Upper lashes can hang over the aperture before
 * curling up, so they hide sclera; the label map loses every pixel a lash covers by
 * half or more.
 */
import { clamp, coverage, toImage, type Rgb } from "./geometry.js";
import { PixelClass } from "./eyeball.js";
import { Aperture } from "./lids.js";
import { Rng } from "./prng.js";
import type { EyeParams } from "./scene.js";

/** A lash as a polyline in image pixels, with its width (px) at each point. */
interface Stroke {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly ws: Float64Array;
  readonly opacity: number;
}

const POINTS = 6;

function bezierStroke(eye: EyeParams, p0: [number, number], p1: [number, number], p2: [number, number], width: number, opacity: number): Stroke {
  const xs = new Float64Array(POINTS);
  const ys = new Float64Array(POINTS);
  const ws = new Float64Array(POINTS);
  for (let i = 0; i < POINTS; i++) {
    const t = i / (POINTS - 1);
    const a = (1 - t) * (1 - t);
    const b = 2 * t * (1 - t);
    const c = t * t;
    const [x, y] = toImage(eye.frame, a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]);
    xs[i] = x;
    ys[i] = y;
    ws[i] = width * eye.frame.scale * (1 - 0.75 * t);
  }
  return { xs, ys, ws, opacity };
}

/** Lash strokes of one eye, in image pixels. */
export function lashStrokes(eye: EyeParams): Stroke[] {
  const look = eye.lashes;
  const ap = new Aperture(eye.lids);
  const rng = new Rng(look.seed, 0x1a5e5);
  const out: Stroke[] = [];
  for (let i = 0; i < look.upperCount; i++) {
    const t = rng.next();
    const u = -0.88 + 1.9 * t ** 0.85;
    const root: [number, number] = [u, ap.upperY(u) - 0.004];
    const slope = (ap.upperY(u + 0.003) - ap.upperY(u - 0.003)) / 0.006;
    const nlen = Math.hypot(slope, 1);
    // Outward normal of the upper lid, swept toward the temporal corner further out.
    const sweep = -0.3 + 0.95 * t + rng.normal(0, 0.15);
    const nx = slope / nlen;
    const ny = -1 / nlen;
    const dx = nx * Math.cos(sweep) - ny * Math.sin(sweep);
    const dy = nx * Math.sin(sweep) + ny * Math.cos(sweep);
    const len = look.upperLength * (0.5 + 0.5 * Math.sin(Math.PI * clamp(t, 0, 1) ** 0.8)) * rng.range(0.7, 1.15);
    const droop = look.droop * rng.range(0.4, 1.2);
    const p1: [number, number] = [root[0] + len * 0.5 * dx, root[1] + len * (0.5 * dy + 0.65 * droop)];
    const p2: [number, number] = [root[0] + len * dx, root[1] + len * (dy + 0.25 * droop)];
    out.push(bezierStroke(eye, root, p1, p2, look.width * rng.range(0.7, 1.2), rng.range(0.7, 1)));
  }
  for (let i = 0; i < look.lowerCount; i++) {
    const t = rng.next();
    const u = -0.55 + 1.55 * t;
    const root: [number, number] = [u, ap.lowerY(u) + eye.lidLook.waterline + 0.004];
    const sweep = -(0.05 + 0.6 * t + rng.normal(0, 0.15));
    const slope = (ap.lowerY(u + 0.003) - ap.lowerY(u - 0.003)) / 0.006;
    const nlen = Math.hypot(slope, 1);
    const nx = -slope / nlen;
    const ny = 1 / nlen;
    const dx = nx * Math.cos(sweep) - ny * Math.sin(sweep);
    const dy = nx * Math.sin(sweep) + ny * Math.cos(sweep);
    const len = look.lowerLength * (0.5 + 0.5 * Math.sin(Math.PI * t)) * rng.range(0.7, 1.2);
    const p1: [number, number] = [root[0] + len * 0.5 * dx, root[1] + len * 0.5 * dy];
    const p2: [number, number] = [root[0] + len * (dx + 0.15), root[1] + len * dy];
    out.push(bezierStroke(eye, root, p1, p2, look.width * 0.7 * rng.range(0.7, 1.2), rng.range(0.5, 0.9)));
  }
  return out;
}

/** Adds a stroke to the opacity layer (max-combined). */
function rasterStroke(s: Stroke, width: number, height: number, alpha: Float32Array): void {
  for (let i = 0; i + 1 < POINTS; i++) {
    const ax = s.xs[i]!;
    const ay = s.ys[i]!;
    const bx = s.xs[i + 1]!;
    const by = s.ys[i + 1]!;
    const wa = s.ws[i]!;
    const wb = s.ws[i + 1]!;
    const pad = Math.max(wa, wb) / 2 + 1;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - pad));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(ax, bx) + pad));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - pad));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(ay, by) + pad));
    const ex = bx - ax;
    const ey = by - ay;
    const len2 = ex * ex + ey * ey || 1e-9;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        // Pixel centres are at integer + 0.5.
        const px = x + 0.5;
        const py = y + 0.5;
        const t = clamp(((px - ax) * ex + (py - ay) * ey) / len2, 0, 1);
        const d = Math.hypot(ax + ex * t - px, ay + ey * t - py);
        const w = wa + (wb - wa) * t;
        // Lines thinner than a pixel are drawn a pixel wide at reduced opacity.
        const a = w >= 1 ? coverage(d - w / 2) : w * coverage(d - 0.5);
        const p = y * width + x;
        const v = a * s.opacity;
        if (v > alpha[p]!) alpha[p] = v;
      }
    }
  }
}

/** Draws every eye's lashes over the image and removes covered pixels from the eye classes. */
export function drawLashes(eyes: readonly EyeParams[], width: number, height: number, rgb: Float32Array, classes: Uint8Array): void {
  const alpha = new Float32Array(width * height);
  let colour: Rgb = [0, 0, 0];
  for (const eye of eyes) {
    colour = eye.lashes.colour;
    for (const s of lashStrokes(eye)) rasterStroke(s, width, height, alpha);
  }
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p]!;
    if (a <= 0) continue;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = rgb[p * 3 + c]! + (colour[c]! - rgb[p * 3 + c]!) * a;
    if (a >= 0.5 && classes[p] !== PixelClass.other) classes[p] = PixelClass.occluded;
  }
}
