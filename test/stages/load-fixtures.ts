/**
 * Fixture trees for the `load` tests: tiny images and masks written with sharp into
 * temporary folders, and a hand-built StageContext to run the stage.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import type { StageContext, StageOutcome } from "../../pipeline/stage.js";
import type { DatasetManifest } from "../../stages/data/dataset-manifest.js";
import { loadStage } from "../../stages/data/load.js";
import type { LoadParams } from "../../stages/data/load-params.js";
import type { LoadReport } from "../../stages/data/load-run.js";

export const W = 12;
export const H = 8;

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `mu-${prefix}-`));
}

async function put(file: string, bytes: Uint8Array): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return file;
}

/** A small textured RGB image; `salt` varies the pixels so files differ. */
export async function writeImage(file: string, opts: { width?: number; height?: number; salt?: number } = {}): Promise<string> {
  const width = opts.width ?? W;
  const height = opts.height ?? H;
  const salt = opts.salt ?? 0;
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + salt * 11) % 256;
  const pipeline = sharp(raw, { raw: { width, height, channels: 3 } });
  const ext = path.extname(file).toLowerCase();
  return put(file, await (ext === ".png" ? pipeline.png() : pipeline.jpeg({ quality: 90 })).toBuffer());
}

/** The sclera region of every fixture mask: the middle third of the columns. */
export function isSclera(x: number, width: number): boolean {
  return x >= width / 3 && x < (2 * width) / 3;
}

/** A grey 0/255 mask PNG (or all-zero when `empty`). */
export async function writeBinaryMask(file: string, opts: { width?: number; height?: number; empty?: boolean } = {}): Promise<string> {
  const width = opts.width ?? W;
  const height = opts.height ?? H;
  const raw = Buffer.alloc(width * height);
  if (!opts.empty) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * width + x] = isSclera(x, width) ? 255 : 0;
  return put(file, await sharp(raw, { raw: { width, height, channels: 1 } }).png().toBuffer());
}

/** An RGB class-colour mask (MOBIUS colours); `stray` paints one pixel an undeclared colour. */
export async function writeRgbMask(file: string, opts: { stray?: boolean; width?: number; height?: number } = {}): Promise<string> {
  const width = opts.width ?? W;
  const height = opts.height ?? H;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const colour = isSclera(x, width) ? [255, 0, 0] : x < width / 6 ? [0, 0, 0] : [0, 255, 0];
      raw.set(colour, (y * width + x) * 3);
    }
  if (opts.stray) raw.set([200, 200, 40], 0);
  return put(file, await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** A class-index mask: 0 background, 1 sclera, 2 iris. */
export async function writeClassMask(file: string): Promise<string> {
  const raw = Buffer.alloc(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) raw[y * W + x] = isSclera(x, W) ? 1 : x > (2 * W) / 3 ? 2 : 0;
  return put(file, await sharp(raw, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer());
}

export async function writeText(file: string, text: string): Promise<string> {
  return put(file, new TextEncoder().encode(text));
}

/** sha256 of every file below `dir`, by relative path: to prove sources are never modified. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = createHash("sha256").update(await readFile(file)).digest("hex");
  }
  return out;
}

export interface LoadResult {
  readonly outDir: string;
  readonly manifestText: string;
  readonly manifest: DatasetManifest;
  readonly report: LoadReport;
  readonly outcome: StageOutcome | void;
}

/** Runs the `load` stage with a hand-built context; params get defaults like the engine would fill. */
export async function runLoad(params: Partial<LoadParams> & Pick<LoadParams, "source">, opts: { baseDir: string; seed?: number }): Promise<LoadResult> {
  const outDir = await tempDir("load-out");
  const full: LoadParams = {
    on_invalid: "error",
    ...params,
    split: { train: 0.8, val: 0.1, test: 0.1, ...params.split },
  };
  const ctx: StageContext<LoadParams> = {
    stageId: "load",
    params: full,
    inputs: {},
    outDir,
    scratchDir: path.join(outDir, ".scratch"),
    baseDir: opts.baseDir,
    seed: opts.seed ?? 42,
    runtime: { backend: "cpu" },
    signal: new AbortController().signal,
    protect: (work) => work,
    log: () => undefined,
    progress: () => undefined,
  };
  const outcome = await loadStage.run(ctx as unknown as StageContext<Record<string, unknown>>);
  const manifestText = await readFile(path.join(outDir, "dataset", "manifest.json"), "utf8");
  const report = JSON.parse(await readFile(path.join(outDir, "dataset", "report.json"), "utf8")) as LoadReport;
  return { outDir, manifestText, manifest: JSON.parse(manifestText) as DatasetManifest, report, outcome };
}
