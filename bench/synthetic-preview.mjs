// Preview and speed check for the synthetic eye generator.
//
// Renders a 4x4 grid of samples (each scaled into a 320x240 tile) with the sclera
// mask's outline in green, writes it as a PNG, prints each tile's attributes, then
// times generation at 320x240 and 640x480.
//
// Usage: npm run build && node bench/synthetic-preview.mjs [--seed N] [--out FILE] [--count N] [--dist DIR]
//   --seed   first seed of the grid (default 1); tiles use seed, seed+1, ...
//   --out    PNG path (default /tmp/synthetic-preview.png)
//   --count  images per size for the timing (default 20; 0 skips it)
//   --dist   folder holding the compiled stages/data/synthetic (default dist/stages/data/synthetic)
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import sharp from "sharp";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const firstSeed = Number(arg("--seed", "1"));
const out = arg("--out", "/tmp/synthetic-preview.png");
const count = Number(arg("--count", "20"));
const distDir = path.resolve(arg("--dist", path.join(root, "dist/stages/data/synthetic")));
const { generateSyntheticEye } = await import(pathToFileURL(path.join(distDir, "generate.js")).href);

const TW = 320;
const TH = 240;
const COLS = 4;
const ROWS = 4;

/** Paints the outline of the mask (mask pixels with a non-mask 4-neighbour) green. */
function outline(rgb, mask, width, height) {
  const img = Buffer.from(rgb);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (mask[p] !== 1) continue;
      const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 || !mask[p - 1] || !mask[p + 1] || !mask[p - width] || !mask[p + width];
      if (edge) img.set([0, 255, 0], p * 3);
    }
  }
  return img;
}

const tiles = [];
for (let i = 0; i < COLS * ROWS; i++) {
  const seed = firstSeed + i;
  const eye = generateSyntheticEye(seed);
  let frac = 0;
  for (const v of eye.sclera) frac += v;
  frac /= eye.sclera.length;
  const a = eye.attributes;
  console.log(`${String(seed).padStart(4)} ${eye.width}x${eye.height} sclera=${(frac * 100).toFixed(1)}% ${a.view} gaze=${a.gaze} light=${a.light} skin=${a.skin} iris=${a.iris} rot=${a.rotation} blur=${a.blur} occ=${a.occluder} ts=${a.timestamp} border=${a.border}`);
  const input = await sharp(outline(eye.rgb, eye.sclera, eye.width, eye.height), { raw: { width: eye.width, height: eye.height, channels: 3 } })
    .resize(TW, TH, { fit: "contain", background: "#202020" })
    .png()
    .toBuffer();
  tiles.push({ input, left: (i % COLS) * TW, top: Math.floor(i / COLS) * TH });
}
await sharp({ create: { width: COLS * TW, height: ROWS * TH, channels: 3, background: "#000" } }).composite(tiles).png().toFile(out);
console.log(`preview: ${out}`);

if (count > 0) {
  for (const [width, height] of [
    [320, 240],
    [640, 480],
  ]) {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) generateSyntheticEye(1000 + i, { width, height });
    const s = (performance.now() - t0) / 1000;
    console.log(`${width}x${height}: ${(count / s).toFixed(1)} images/s (${((s / count) * 1000).toFixed(0)} ms each, one thread)`);
  }
}
