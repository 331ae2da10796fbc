/**
 * Fixtures shared by the flip-augment, resize and tensor-shard tests: temporary
 * folders, tiny images written with sharp from raw pixels, hand-written dataset
 * manifests, and a StageContext with no engine behind it.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";

import type { ProgressUpdate, StageContext, StageOutcome, StageType } from "../../pipeline/stage.js";
import {
  DATASET_MANIFEST_FILE,
  DATASET_MANIFEST_VERSION,
  type DatasetItem,
  type Split,
} from "../../stages/data/dataset-manifest.js";

export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = "mu-pipe-data-"): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

export interface RawPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array;
}

/** Deterministic, asymmetric pixels: no row or column equals its mirror. */
export function patternPixels(width: number, height: number, channels: 1 | 3 | 4): RawPixels {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + Math.floor(i / 7) * 11 + 5) % 256;
  if (channels === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height, channels, data };
}

/** A 0/1 mask with an asymmetric blob (upper-left heavy). */
export function blobMask(width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) if (x < (width * 2) / 3 - y / 2 && y < (height * 3) / 4) mask[y * width + x] = 1;
  }
  return mask;
}

export async function writePng(file: string, pixels: RawPixels): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const { width, height, channels } = pixels;
  const image = sharp(Buffer.from(pixels.data), { raw: { width, height, channels } });
  // sharp writes raw 1- and 2-channel input as RGB unless told the pixels are grey.
  if (channels <= 2) image.toColourspace("b-w");
  await image.png().toFile(file);
}

/** A mask file the `binary` encoding reads: 0 and 255 grey. */
export async function writeMaskPng(file: string, width: number, height: number, mask: Uint8Array): Promise<void> {
  await writePng(file, { width, height, channels: 1, data: mask.map((v) => (v ? 255 : 0)) });
}

export function mirrorRows(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * channels;
      const to = (y * width + (width - 1 - x)) * channels;
      out.set(pixels.subarray(from, from + channels), to);
    }
  }
  return out;
}

export function mirrorColumns(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  const row = width * channels;
  for (let y = 0; y < height; y++) out.set(pixels.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return out;
}

export function item(id: string, split: Split, image: string, mask: string, extra: Partial<DatasetItem> = {}): DatasetItem {
  return {
    id,
    image: { path: image, sha256: sha256Text(`image:${id}`), width: 0, height: 0 },
    mask: { path: mask, sha256: sha256Text(`mask:${id}`), width: 0, height: 0 },
    maskEncoding: { kind: "binary" },
    subject: `s-${id}`,
    attributes: { eye: "L", source: "fixture" },
    split,
    ...extra,
  };
}

export async function writeDataset(dir: string, items: readonly DatasetItem[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const manifest = { version: DATASET_MANIFEST_VERSION, items, skipped: [] };
  await writeFile(path.join(dir, DATASET_MANIFEST_FILE), JSON.stringify(manifest, null, 2));
}

export interface TestRun<Params> {
  readonly ctx: StageContext<Params>;
  readonly progress: ProgressUpdate[];
}

export function context<Params>(
  params: Params,
  inputs: Record<string, string>,
  outDir: string,
  signal: AbortSignal = new AbortController().signal,
): TestRun<Params> {
  const progress: ProgressUpdate[] = [];
  const ctx: StageContext<Params> = {
    stageId: "under-test",
    params,
    inputs,
    outDir,
    scratchDir: path.join(outDir, ".scratch"),
    baseDir: outDir,
    seed: 42,
    runtime: { backend: "cpu" },
    signal,
    protect: (work) => work,
    log: () => {},
    progress: (update) => progress.push(update),
  };
  return { ctx, progress };
}

/** Runs a stage typed as the registry holds it. */
export async function runStage<Params>(type: StageType, run: TestRun<Params>): Promise<StageOutcome> {
  return (await type.run(run.ctx as unknown as StageContext<Record<string, unknown>>)) ?? {};
}

export async function sha256File(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

function sha256Text(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
