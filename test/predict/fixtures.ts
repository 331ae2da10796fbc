/**
 * Fixtures for the threshold and predict tests: a "red channel" model whose output is
 * exactly the input's red value / 255 (so tests choose the probabilities by choosing
 * pixels), a tiny MU-Net, tensors written directly, and a dataset resized by the real
 * resize stage so items point at files of known original sizes.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Ajv } from "ajv";
import * as tf from "@tensorflow/tfjs";
import { decode as decodePng } from "fast-png";
import { expect } from "vitest";

import type { StageContext } from "../../pipeline/stage.js";
import type { DatasetItem, Split } from "../../stages/data/dataset-manifest.js";
import { resizeStage } from "../../stages/data/resize.js";
import { TensorShardWriter, type TensorItemInfo } from "../../stages/data/tensor-shards.js";
import { saveModelFolder, type ModelMetadata } from "../../stages/model/model-folder.js";
import { buildMuNet } from "../../stages/model/mu-net.js";
import { context, item, runStage, writeDataset, writeMaskPng, writePng, type RawPixels } from "../stages/resize-fixtures.js";

export { TempDirs } from "../stages/resize-fixtures.js";

export function metadataFor(inputSize: number, overrides: Partial<ModelMetadata> = {}): ModelMetadata {
  return { version: 1, format: "mu-pipe-model", alpha: 0.35, inputSize, decoderFilters: [8, 8, 8, 8], inputScaling: "unit", threshold: null, createdBy: "test", ...overrides };
}

/**
 * A model folder whose sclera probability is the pixel's red value / 255 (a 1x1
 * convolution picking the red channel of `unit`-scaled input, no activation).
 */
export async function saveRedChannelModel(dir: string, size: number, threshold: number | null = null): Promise<string> {
  const layer = tf.layers.conv2d({ inputShape: [size, size, 3], filters: 1, kernelSize: 1, useBias: true, activation: "linear", name: "red" });
  return saveOneLayerModel(dir, size, threshold, layer, () => [tf.tensor4d([1, 0, 0], [1, 1, 3, 1]), tf.tensor1d([0])]);
}

/**
 * A model folder that is not mirror-symmetric: a pixel's probability is the red value
 * / 255 of its LEFT neighbour (a 1x3 convolution, zero padding, so column 0 gets 0).
 * With flip TTA, pixel x gets the mean of its left and right neighbours' red.
 */
export async function saveLeftNeighbourModel(dir: string, size: number, threshold: number | null = null): Promise<string> {
  const layer = tf.layers.conv2d({ inputShape: [size, size, 3], filters: 1, kernelSize: [1, 3], padding: "same", useBias: false, activation: "linear", name: "left" });
  // kernel[0][kx][channel][0]: kx 0 reads the left neighbour; only its red channel counts.
  return saveOneLayerModel(dir, size, threshold, layer, () => [tf.tensor4d([1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 3, 3, 1])]);
}

/** A model folder of one convolution with the given weights. */
async function saveOneLayerModel(dir: string, size: number, threshold: number | null, layer: tf.layers.Layer, makeWeights: () => tf.Tensor[]): Promise<string> {
  const model = tf.sequential({ layers: [layer] });
  const weights = makeWeights();
  try {
    model.layers[0]?.setWeights(weights);
    await saveModelFolder(model, dir, metadataFor(size, { threshold }));
  } finally {
    tf.dispose(weights);
    model.dispose();
  }
  return dir;
}

/** A tiny random MU-Net (32x32 input) saved as a model folder. */
export async function saveTinyMuNet(dir: string): Promise<string> {
  const model = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] });
  try {
    await saveModelFolder(model, dir, metadataFor(32, { inputScaling: "imagenet" }));
  } finally {
    model.dispose();
  }
  return dir;
}

export interface SyntheticItem {
  readonly split: Split;
  /** size x size red values (green and blue are 0). */
  readonly red: Uint8Array;
  /** size x size truth, 1 = sclera. */
  readonly mask: Uint8Array;
  readonly augmentOf?: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Writes a tensors folder with the given items (ids `<split>-<n>`), in the order given per split. */
export async function writeSyntheticTensors(dir: string, size: number, items: readonly SyntheticItem[]): Promise<string> {
  const out = path.join(dir, "tensors");
  const writer = await TensorShardWriter.create(out, { size, shardCapacity: 3, provenance: { kernel: "lanczos3", maskKernel: "linear", maskThreshold: 0.5 } });
  let n = 0;
  for (const split of ["train", "val", "test"] as const) {
    const ofSplit = items.filter((i) => i.split === split);
    let start = 0;
    for (const count of writer.plan(ofSplit.length)) {
      const shard = writer.startShard(split, count);
      const infos: TensorItemInfo[] = [];
      for (let row = 0; row < count; row++) {
        const entry = ofSplit[start + row] as SyntheticItem;
        const image = shard.image(row);
        entry.red.forEach((value, p) => (image[p * 3] = value));
        shard.mask(row).set(entry.mask);
        infos.push(
          fixtureItemInfo(split, n, size, {
            attributes: { ...entry.attributes },
            transform: entry.augmentOf === undefined ? null : { flip: "horizontal" },
            augmentOf: entry.augmentOf ?? null,
          }),
        );
        n++;
      }
      start += count;
      await writer.commitShard(shard, infos);
    }
  }
  await writer.finish();
  return out;
}

/** An RGB image whose red channel rises left to right (so predictions differ across the image). */
/** A shard item's record for tensors written by a test: `<split>-<n>`, placeholder source files, size x size, binary mask. */
export function fixtureItemInfo(split: Split, n: number, size: number, overrides: Partial<TensorItemInfo> = {}): TensorItemInfo {
  return {
    id: `${split}-${n}`,
    image: `/fixture/${n}.png`,
    imageSha256: "0".repeat(64),
    mask: `/fixture/${n}-mask.png`,
    maskEncoding: { kind: "binary" },
    originalWidth: size,
    originalHeight: size,
    subject: null,
    attributes: {},
    transform: null,
    augmentOf: null,
    ...overrides,
  };
}

export function rampImage(width: number, height: number): RawPixels {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = Math.round((255 * x) / Math.max(1, width - 1));
      data[p + 1] = (y * 7) % 256;
      data[p + 2] = 40;
    }
  }
  return { width, height, channels: 3, data };
}

/** The right half of the image is sclera. */
export function rightHalfMask(width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = Math.floor(width / 2); x < width; x++) mask[y * width + x] = 1;
  return mask;
}

export interface DatasetEntry {
  readonly id: string;
  readonly split: Split;
  readonly width: number;
  readonly height: number;
  /** Path of the mask file inside the dataset (its base name is the SSBC name). */
  readonly maskFile: string;
  readonly imageFile: string;
  readonly extra?: Partial<DatasetItem>;
}

/** Writes images and masks, then runs the real resize stage at `size`; returns the tensors folder. */
export async function resizedDataset(datasetDir: string, outDir: string, size: number, entries: readonly DatasetEntry[]): Promise<string> {
  const items: DatasetItem[] = [];
  for (const e of entries) {
    await writePng(path.join(datasetDir, e.imageFile), rampImage(e.width, e.height));
    await writeMaskPng(path.join(datasetDir, e.maskFile), e.width, e.height, rightHalfMask(e.width, e.height));
    items.push(item(e.id, e.split, e.imageFile, e.maskFile, e.extra));
  }
  await writeDataset(datasetDir, items);
  await runStage(resizeStage, context({ size, kernel: "lanczos3", mask_threshold: 0.5 }, { dataset: datasetDir }, outDir));
  return path.join(outDir, "tensors");
}

/** A StageContext for `params` on the cpu backend; `logs` collects its log lines. */
export function stageContext<Params>(params: Params, inputs: Record<string, string>, outDir: string, baseDir = outDir): { ctx: StageContext<Params>; logs: string[] } {
  const logs: string[] = [];
  const base = context(params, inputs, outDir).ctx;
  return { ctx: { ...base, baseDir, log: (message: string) => logs.push(message) }, logs };
}

/** Params as the engine passes them: `overrides` with the schema's defaults filled in (by ajv). */
export function withDefaults<Params>(schema: object, overrides: Record<string, unknown> = {}): Params {
  const ajv = new Ajv({ useDefaults: true, strict: false });
  const validate = ajv.compile(schema);
  const params = structuredClone(overrides);
  if (!validate(params)) throw new Error(`invalid params: ${ajv.errorsText(validate.errors)}`);
  return params as Params;
}

/** A PNG's samples as stored (fast-png does not convert), checked to be 8-bit single-channel. */
export async function grey(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const png = decodePng(await readFile(file));
  expect([path.basename(file), png.channels, png.depth, png.palette]).toEqual([path.basename(file), 1, 8, undefined]);
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}
