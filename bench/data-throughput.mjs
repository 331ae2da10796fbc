// Data-path throughput: load (or a stand-in) + flip-augment + resize to 224 over
// 1,000 640x480 JPEG photos with PNG masks. Target: under 20 s in all on 2 cores.
// The fixture photos are generated into a temp folder before the clock starts.
//
// Usage: npm run build && node bench/data-throughput.mjs [--count N] [--keep] [--stand-in]
//    or: npm run bench:data (the same)
// It imports the compiled stages from dist/. When dist/stages/data/load.js exists the
// real `load` stage runs; otherwise a stand-in does what load must do at least (hash
// every image and mask, read their sizes with sharp, write the manifest) and the
// output says so (`--stand-in` forces it, to compare).
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import sharp from "sharp";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist/stages/data");
const argValue = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const COUNT = argValue("--count", 1000);
const KEEP = process.argv.includes("--keep");
const WIDTH = 640;
const HEIGHT = 480;
const TARGET_SECONDS = 20;

const { flipAugmentStage } = await import(pathToFileURL(path.join(dist, "flip-augment.js")).href);
const { resizeStage } = await import(pathToFileURL(path.join(dist, "resize.js")).href);
const loadFile = path.join(dist, "load.js");
const { loadStage, loadMissing } = process.argv.includes("--stand-in")
  ? { loadStage: null, loadMissing: "--stand-in given" }
  : existsSync(loadFile)
    ? await import(pathToFileURL(loadFile).href).then(
        (m) => ({ loadStage: m.loadStage, loadMissing: null }),
        (e) => ({ loadStage: null, loadMissing: `load stage failed to import: ${e.message.split("\n")[0]}` }),
      )
    : { loadStage: null, loadMissing: "load stage not built" };

/** A 32-bit xorshift generator, so every run generates the same photos. */
function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** An eye-ish photo: skin gradient with grain, a white almond (sclera), an iris, a pupil. */
function photo(n) {
  const rand = prng(n * 7919 + 1);
  const cx = WIDTH / 2 + (rand() - 0.5) * 120;
  const cy = HEIGHT / 2 + (rand() - 0.5) * 80;
  const rx = 170 + rand() * 60;
  const ry = 60 + rand() * 30;
  const ir = ry * (0.8 + rand() * 0.2);
  const irisColour = [40 + rand() * 80, 60 + rand() * 60, 30 + rand() * 60];
  const image = Buffer.alloc(WIDTH * HEIGHT * 3);
  const mask = Buffer.alloc(WIDTH * HEIGHT);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = y * WIDTH + x;
      const grain = (rand() - 0.5) * 24;
      const ex = (x - cx) / rx;
      const ey = (y - cy) / ry;
      const inEye = ex * ex + ey * ey < 1;
      const d = Math.hypot(x - cx, y - cy);
      let rgb;
      if (inEye && d < ir * 0.35) rgb = [15, 12, 12];
      else if (inEye && d < ir) rgb = irisColour;
      else if (inEye) {
        rgb = [225, 220, 215];
        mask[i] = 255;
      } else rgb = [200 - y / 8, 150 - y / 10, 130 - x / 20];
      image[i * 3] = Math.max(0, Math.min(255, rgb[0] + grain));
      image[i * 3 + 1] = Math.max(0, Math.min(255, rgb[1] + grain));
      image[i * 3 + 2] = Math.max(0, Math.min(255, rgb[2] + grain));
    }
  }
  return { image, mask };
}

async function generate(dir) {
  await mkdir(path.join(dir, "images"), { recursive: true });
  await mkdir(path.join(dir, "masks"), { recursive: true });
  let next = 0;
  const lane = async () => {
    while (next < COUNT) {
      const n = next++;
      const name = `eye${String(n).padStart(4, "0")}`;
      const { image, mask } = photo(n);
      await sharp(image, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
        .jpeg({ quality: 90 })
        .toFile(path.join(dir, "images", `${name}.jpg`));
      await sharp(mask, { raw: { width: WIDTH, height: HEIGHT, channels: 1 } })
        .toColourspace("b-w")
        .png()
        .toFile(path.join(dir, "masks", `${name}.png`));
    }
  };
  await Promise.all([lane(), lane(), lane()]);
}

function context(params, inputs, outDir) {
  return {
    stageId: "bench",
    params,
    inputs,
    outDir,
    scratchDir: path.join(outDir, ".scratch"),
    baseDir: outDir,
    seed: 42,
    runtime: { backend: "cpu" },
    signal: new AbortController().signal,
    log: () => {},
    progress: () => {},
  };
}

/** What load has to do at the least: hash both files, read both sizes, write the manifest. */
async function standInLoad(sourceDir, outDir) {
  const describe = async (file) => {
    const bytes = await readFile(file);
    const meta = await sharp(bytes).metadata();
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    return { path: file, sha256, width: meta.autoOrient.width, height: meta.autoOrient.height };
  };
  const items = new Array(COUNT);
  let next = 0;
  const lane = async () => {
    while (next < COUNT) {
      const n = next++;
      const name = `eye${String(n).padStart(4, "0")}`;
      const [image, mask] = await Promise.all([
        describe(path.join(sourceDir, "images", `${name}.jpg`)),
        describe(path.join(sourceDir, "masks", `${name}.png`)),
      ]);
      const split = n % 20 < 14 ? "train" : n % 20 < 17 ? "val" : "test";
      items[n] = { id: name, image, mask, maskEncoding: { kind: "binary" }, subject: `s${n >> 2}`, attributes: {}, split };
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  const dataset = path.join(outDir, "dataset");
  await mkdir(dataset, { recursive: true });
  await writeFile(path.join(dataset, "manifest.json"), JSON.stringify({ version: 1, items, skipped: [] }));
}

async function realLoad(sourceDir, outDir) {
  const params = {
    source: { kind: "folders", images: path.join(sourceDir, "images"), masks: path.join(sourceDir, "masks") },
    split: { train: 0.7, val: 0.15, test: 0.15, by: "image" },
    on_invalid: "error",
  };
  await loadStage.run(context(params, {}, outDir));
}

const work = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-bench-data-"));
try {
  const sourceDir = path.join(work, "source");
  let t = performance.now();
  await generate(sourceDir);
  console.log(`generated ${COUNT} ${WIDTH}x${HEIGHT} JPEG photos + PNG masks in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed)`);

  const phases = [];
  const cpuSeconds = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  const timed = async (name, fn) => {
    const start = performance.now();
    const cpu = cpuSeconds();
    const result = await fn();
    phases.push([name, (performance.now() - start) / 1000, cpuSeconds() - cpu]);
    return result;
  };
  const loadOut = path.join(work, "load");
  const flipOut = path.join(work, "flip");
  const resizeOut = path.join(work, "resize");
  t = performance.now();
  const cpuStart = cpuSeconds();
  if (loadStage) await timed("load (real stage)", () => realLoad(sourceDir, loadOut));
  else await timed(`load stand-in (hash + sharp metadata; ${loadMissing})`, () => standInLoad(sourceDir, loadOut));
  const flip = await timed("flip-augment", () =>
    flipAugmentStage.run(context({ splits: ["train"], flips: ["horizontal"] }, { dataset: path.join(loadOut, "dataset") }, flipOut)),
  );
  const resize = await timed("resize to 224", () =>
    resizeStage.run(
      context({ size: 224, kernel: "lanczos3", mask_threshold: 0.5 }, { dataset: path.join(flipOut, "dataset") }, resizeOut),
    ),
  );
  const total = (performance.now() - t) / 1000;

  // CPU time (all threads) shows the work when other processes share the cores.
  for (const [name, seconds, cpu] of phases) {
    console.log(`  ${name.padEnd(70)} ${seconds.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU`);
  }
  console.log(`  items after flip-augment: ${flip.metrics.items_after} (train ${resize.metrics.items_train}, val ${resize.metrics.items_val}, test ${resize.metrics.items_test})`);
  console.log(`  resize: ${resize.metrics.images_per_second} images/s`);
  const verdict = total < TARGET_SECONDS ? "within" : "OVER";
  console.log(
    `data path for ${COUNT} photos: ${total.toFixed(2)} s wall, ${(cpuSeconds() - cpuStart).toFixed(2)} s CPU ` +
      `(${verdict} the ${TARGET_SECONDS} s target, ${os.availableParallelism()} cores, load average ${os.loadavg()[0].toFixed(1)})`,
  );
  if (total >= TARGET_SECONDS) process.exitCode = 1;
} finally {
  if (KEEP) console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
