/**
 * A dark region in front of or behind the face (hair, headphones, a dim background)
 * bounded by a wavy line, as in real webcam photos. It hides whatever it covers,
 * including a partner eye's sclera, so it also clears the label map.
 */
import { coverage } from "./geometry.js";
import { PixelClass } from "./eyeball.js";
import { fbm, valueNoise } from "./noise.js";
import type { FaceLook } from "./scene.js";

export function drawOccluder(face: FaceLook, width: number, height: number, rgb: Float32Array, classes: Uint8Array): void {
  const occ = face.occluder;
  if (occ === null) return;
  const { nx, ny, seed } = occ;
  const wave = 0.04 * Math.max(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const along = -ny * (x + 0.5) + nx * (y + 0.5);
      const d = occ.offsetPx - (nx * (x + 0.5) + ny * (y + 0.5)) + wave * fbm(along / (0.3 * width), 0.5, seed, 3);
      const cov = coverage(d);
      if (cov <= 0) continue;
      const depth = -d;
      let k = 1 + 0.15 * fbm(x / 40, y / 40, seed + 1, 2);
      if (occ.kind === "hair") k *= 0.7 + 0.6 * valueNoise(along / 2.5, depth / 25, seed + 2);
      const p = y * width + x;
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = rgb[p * 3 + c]! + (occ.colour[c]! * k - rgb[p * 3 + c]!) * cov;
      if (d < 0) classes[p] = PixelClass.occluded;
    }
  }
}
