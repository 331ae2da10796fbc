/**
 * Things added after the camera: a burnt-in timestamp (white text, as webcams print
 * it) and the black corners of a rotated-then-cropped photo. Both hide the eye where
 * they cover it, so both clear the labels there.
 */
import { coverage } from "./geometry.js";
import { PixelClass } from "./eyeball.js";
import type { OverlayLook } from "./scene.js";

/** A 3x5 pixel font: each glyph is five rows of three bits, most significant bit left. */
const GLYPHS: Readonly<Record<string, readonly number[]>> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 7, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 2, 2, 2],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  "-": [0, 0, 7, 0, 0],
  ":": [0, 2, 0, 2, 0],
  " ": [0, 0, 0, 0, 0],
};

function drawText(t: NonNullable<OverlayLook["timestamp"]>, width: number, height: number, rgb: Float32Array, classes: Uint8Array): void {
  const g = t.glyphPx;
  for (let ci = 0; ci < t.text.length; ci++) {
    const rows = GLYPHS[t.text[ci] ?? " "] ?? GLYPHS[" "]!;
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) {
        if ((((rows[row] ?? 0) >> (2 - col)) & 1) === 0) continue;
        const x0 = t.x + (ci * 4 + col) * g;
        const y0 = t.y + row * g;
        for (let y = Math.max(0, y0); y < Math.min(height, y0 + g); y++) {
          for (let x = Math.max(0, x0); x < Math.min(width, x0 + g); x++) {
            const p = y * width + x;
            rgb[p * 3] = 0.97;
            rgb[p * 3 + 1] = 0.97;
            rgb[p * 3 + 2] = 0.97;
            if (classes[p] !== PixelClass.other) classes[p] = PixelClass.occluded;
          }
        }
      }
    }
  }
}

function drawBorder(b: NonNullable<OverlayLook["border"]>, width: number, height: number, rgb: Float32Array, classes: Uint8Array): void {
  const c = Math.cos(b.angle);
  const s = Math.sin(b.angle);
  const hw = (width * b.scale) / 2;
  const hh = (height * b.scale) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x + 0.5 - width / 2;
      const dy = y + 0.5 - height / 2;
      const rx = c * dx + s * dy;
      const ry = -s * dx + c * dy;
      const d = Math.max(Math.abs(rx) - hw, Math.abs(ry) - hh);
      if (d < -1) continue;
      const p = y * width + x;
      const k = coverage(d);
      rgb[p * 3] = rgb[p * 3]! * k;
      rgb[p * 3 + 1] = rgb[p * 3 + 1]! * k;
      rgb[p * 3 + 2] = rgb[p * 3 + 2]! * k;
      if (d > 0) classes[p] = PixelClass.occluded;
    }
  }
}

export function applyOverlay(o: OverlayLook, width: number, height: number, rgb: Float32Array, classes: Uint8Array): void {
  if (o.timestamp !== null) drawText(o.timestamp, width, height, rgb, classes);
  if (o.border !== null) drawBorder(o.border, width, height, rgb, classes);
}
