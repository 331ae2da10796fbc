/**
 * Fixtures for the finetune tests: tiny tensor shards written in a temp folder, params
 * with the schema's defaults filled in (by ajv, as the engine does), and a StageContext
 * with no engine behind it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import * as tf from "@tensorflow/tfjs";

import type { ProgressUpdate, StageContext } from "../../pipeline/stage.js";
import type { Split } from "../../stages/data/dataset-manifest.js";
import { TensorShardWriter, type TensorItemInfo } from "../../stages/data/tensor-shards.js";
import { finetuneParamsSchema, type FinetuneParams } from "../../stages/train/finetune-params.js";

export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix = "mu-pipe-train-"): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Deterministic pseudo-random bytes. */
function bytes(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (state >>> 0) % 256;
  }
  return out;
}

/**
 * An image of smooth-ish blobs and its mask: sclera = pixels whose red channel is
 * bright. Learnable by a tiny network within a few epochs.
 */
export function brightPixelsSample(size: number, seed: number): { image: Uint8Array; mask: Uint8Array } {
  const noise = bytes(size * size * 3, seed);
  const image = new Uint8Array(size * size * 3);
  const mask = new Uint8Array(size * size);
  const cx = ((seed * 7) % size) + 0.5;
  const cy = ((seed * 13) % size) + 0.5;
  const radius = size / 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const inside = (x - cx) ** 2 + (y - cy) ** 2 < radius ** 2;
      const base = inside ? 200 : 40;
      image[p * 3] = Math.min(255, base + ((noise[p * 3] ?? 0) % 40));
      image[p * 3 + 1] = (noise[p * 3 + 1] ?? 0) % 128;
      image[p * 3 + 2] = (noise[p * 3 + 2] ?? 0) % 128;
      mask[p] = inside ? 1 : 0;
    }
  }
  return { image, mask };
}

export interface ShardSpec {
  readonly size: number;
  readonly counts: Partial<Record<Split, number>>;
  /** Each item's attributes by its split and its place in that split (default none). */
  readonly attributes?: (split: Split, index: number) => Record<string, string>;
}

/** Writes a `tensors` folder like the resize stage's, with `brightPixelsSample` items. */
export async function writeTensorFixture(dir: string, spec: ShardSpec): Promise<string> {
  const out = path.join(dir, "tensors");
  const writer = await TensorShardWriter.create(out, { size: spec.size, shardCapacity: 4, provenance: { kernel: "test", maskKernel: "test", maskThreshold: 0.5 } });
  let seed = 1;
  for (const split of ["train", "val", "test"] as const) {
    const count = spec.counts[split] ?? 0;
    let index = 0;
    for (const rows of writer.plan(count)) {
      const shard = writer.startShard(split, rows);
      const infos: TensorItemInfo[] = [];
      for (let row = 0; row < rows; row++) {
        const sample = brightPixelsSample(spec.size, seed);
        shard.image(row).set(sample.image);
        shard.mask(row).set(sample.mask);
        infos.push({
          id: `${split}-${seed}`,
          image: `/fixture/${seed}.png`,
          imageSha256: "0".repeat(64),
          mask: `/fixture/${seed}-mask.png`,
          originalWidth: spec.size,
          originalHeight: spec.size,
          subject: `s${seed}`,
          attributes: spec.attributes?.(split, index++) ?? {},
          transform: null,
          augmentOf: null,
        });
        seed++;
      }
      await writer.commitShard(shard, infos);
    }
  }
  await writer.finish();
  return out;
}

/** Params as the engine would pass them: `overrides` with the schema's defaults filled in. */
export function finetuneParams(overrides: Record<string, unknown>): FinetuneParams {
  const ajv = new Ajv({ useDefaults: true, strict: false });
  const validate = ajv.compile(finetuneParamsSchema);
  const params = structuredClone(overrides);
  if (!validate(params)) throw new Error(`invalid params: ${ajv.errorsText(validate.errors)}`);
  return params as unknown as FinetuneParams;
}

/** Tiny-model params shared by the tests. */
export function tinyParams(overrides: Record<string, unknown> = {}): FinetuneParams {
  return finetuneParams({
    model: { decoder_filters: [8, 8, 8, 8] },
    encoder: { weights: "none" },
    epochs: 2,
    batch_size: 4,
    optimizer: { lr: 1e-2 },
    ...overrides,
  });
}

export interface TestContext {
  readonly ctx: StageContext<FinetuneParams>;
  readonly logs: string[];
  readonly progress: ProgressUpdate[];
}

export function testContext(
  params: FinetuneParams,
  inputs: Record<string, string>,
  dirs: { outDir: string; scratchDir: string },
  options: { signal?: AbortSignal; onProgress?: (update: ProgressUpdate) => void } = {},
): TestContext {
  const logs: string[] = [];
  const progress: ProgressUpdate[] = [];
  const ctx: StageContext<FinetuneParams> = {
    stageId: "finetune-under-test",
    params,
    inputs,
    outDir: dirs.outDir,
    scratchDir: dirs.scratchDir,
    baseDir: dirs.outDir,
    seed: 42,
    runtime: { backend: "cpu" },
    signal: options.signal ?? new AbortController().signal,
    protect: (work) => work,
    log: (message) => logs.push(message),
    progress: (update) => {
      progress.push(update);
      options.onProgress?.(update);
    },
  };
  return { ctx, logs, progress };
}

/** Values of every weight of the layers whose name passes `filter`, keyed by the weight name (`<layer>/<weight>`). */
export function weightSnapshot(model: tf.LayersModel, filter: (layerName: string) => boolean): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const layer of model.layers) {
    if (!filter(layer.name)) continue;
    for (const weight of layer.weights) out.set(weight.originalName, weight.read().dataSync() as Float32Array);
  }
  return out;
}
