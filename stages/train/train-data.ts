/**
 * The images and masks of one split of a `tensors` artifact, as training batches.
 *
 * A split small enough (MAX_RESIDENT_BYTES) is read into memory once; a larger one is
 * read item by item from its shards each time a batch needs it. Either way a batch is
 * assembled in JavaScript as uint8 bytes and becomes two tensors: images [b, s, s, 3]
 * scaled as the model expects, and masks [b, s, s, 1] of 0/1 floats.
 */
import * as tf from "@tensorflow/tfjs";

import type { Split } from "../data/dataset-manifest.js";
import { derivedSeed, makeRandom, shuffled } from "../data/split.js";
import { IMAGE_CHANNELS, type TensorItem, type TensorShards } from "../data/tensor-shards.js";
import { scaleImages, type InputScaling } from "../model/input-scaling.js";

/** Splits up to this size are kept in memory (about 5,000 items of 224x224). */
export const MAX_RESIDENT_BYTES = 1 << 30;

export interface BatchBytes {
  readonly count: number;
  readonly images: Uint8Array;
  readonly masks: Uint8Array;
}

export interface Batch {
  readonly images: tf.Tensor4D;
  readonly masks: tf.Tensor4D;
}

export class SplitData {
  private constructor(
    readonly split: Split,
    readonly size: number,
    /** The items in use, in manifest order (after `limit`). */
    readonly items: readonly TensorItem[],
    private readonly shards: TensorShards,
    private readonly resident: Map<string, BatchBytes> | null,
  ) {}

  /**
   * Opens a split; with `limit`, keeps that many items, chosen by `seed` (the same
   * items every run) and kept in manifest order.
   */
  static async open(shards: TensorShards, split: Split, options: { limit?: number; seed: number; maxResidentBytes?: number }): Promise<SplitData> {
    const { size } = shards.manifest;
    let items = shards.manifest.items.filter((item) => item.split === split);
    if (options.limit !== undefined && options.limit < items.length) {
      const keep = new Set(shuffled(items.map((item) => item.id), makeRandom(derivedSeed(options.seed, `finetune:limit:${split}`))).slice(0, options.limit));
      items = items.filter((item) => keep.has(item.id));
    }
    const bytes = items.length * size * size * (IMAGE_CHANNELS + 1);
    let resident: Map<string, BatchBytes> | null = null;
    if (bytes <= (options.maxResidentBytes ?? MAX_RESIDENT_BYTES)) {
      resident = new Map();
      const wanted = new Set(items.map((item) => item.shard));
      for await (const shard of shards.readSplit(split)) {
        if (wanted.has(shard.file)) resident.set(shard.file, { count: shard.count, images: shard.images, masks: shard.masks });
      }
    }
    return new SplitData(split, size, items, shards, resident);
  }

  get count(): number {
    return this.items.length;
  }

  /** The bytes of the items at `positions` (indices into `items`), in that order. */
  async gather(positions: readonly number[]): Promise<BatchBytes> {
    const pixels = this.size * this.size;
    const images = new Uint8Array(positions.length * pixels * IMAGE_CHANNELS);
    const masks = new Uint8Array(positions.length * pixels);
    for (const [row, position] of positions.entries()) {
      const item = this.items[position];
      if (item === undefined) throw new RangeError(`item ${position} is outside the ${this.split} split (${this.count} items)`);
      const shard = this.resident?.get(item.shard);
      if (shard !== undefined) {
        images.set(shard.images.subarray(item.index * pixels * IMAGE_CHANNELS, (item.index + 1) * pixels * IMAGE_CHANNELS), row * pixels * IMAGE_CHANNELS);
        masks.set(shard.masks.subarray(item.index * pixels, (item.index + 1) * pixels), row * pixels);
      } else {
        const sample = await this.shards.readItem(item.id);
        images.set(sample.image, row * pixels * IMAGE_CHANNELS);
        masks.set(sample.mask, row * pixels);
      }
    }
    return { count: positions.length, images, masks };
  }
}

/** Model-ready tensors of a batch: the caller disposes them. */
export function batchTensors(bytes: BatchBytes, size: number, scaling: InputScaling): Batch {
  return tf.tidy(() => {
    const raw = tf.tensor4d(bytes.images, [bytes.count, size, size, IMAGE_CHANNELS], "int32");
    return {
      images: scaleImages(raw, scaling),
      masks: tf.tensor4d(Float32Array.from(bytes.masks), [bytes.count, size, size, 1], "float32"),
    };
  });
}

/** The order of the training items in `epoch` (1-based): a fixed function of the seed and the epoch. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle: boolean): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  return shuffle ? shuffled(order, makeRandom(derivedSeed(seed, `finetune:shuffle:${epoch}`))) : order;
}

/** Consecutive batches of `order`; the last one may be smaller (as Keras's fit does). */
export function batchPositions(order: readonly number[], batchSize: number): number[][] {
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}
