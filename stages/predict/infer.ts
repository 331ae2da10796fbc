/**
 * Batched inference: uint8 RGB images in, one Float32 probability map per image out.
 * Shared by the `threshold` and `predict` stages and `mu-pipe predict`.
 *
 * Each batch's tensors live inside `tf.tidy`; only the output survives it, and it is
 * disposed as soon as its values are read, so memory stays flat over a split.
 */
import * as tf from "@tensorflow/tfjs";

import type { Split } from "../data/dataset-manifest.js";
import { IMAGE_CHANNELS, type TensorItem, type TensorShards } from "../data/tensor-shards.js";
import { scaleImages, type InputScaling } from "../model/input-scaling.js";
import { stopPoint } from "../runtime/stop-point.js";
import type { Tta } from "../model/tta.js";

/**
 * Probability maps of `count` images (`images`: count x size x size x 3 bytes, NHWC)
 * as one array of count x size x size values; image i's map starts at i * size * size.
 * With `tta` flip (tta.ts), each map is the mean of the image's map and the mirrored
 * map of its mirror: one forward pass over the batch followed by its mirrored copy.
 */
export async function predictProbabilities(model: tf.LayersModel, images: Uint8Array, count: number, size: number, scaling: InputScaling, tta: Tta = "none"): Promise<Float32Array> {
  const expected = count * size * size * IMAGE_CHANNELS;
  if (images.length !== expected) throw new RangeError(`a batch of ${count} images of ${size}x${size}x3 needs ${expected} bytes, got ${images.length}`);
  const passes = tta === "flip" ? 2 : 1;
  const output = tf.tidy(() => {
    const scaled = scaleImages(tf.tensor4d(images, [count, size, size, IMAGE_CHANNELS], "int32"), scaling);
    // Axis 2 of NHWC is the width: reversing it mirrors left and right.
    const input = tta === "flip" ? tf.concat([scaled, tf.reverse(scaled, 2)], 0) : scaled;
    const result = model.predict(input);
    const probabilities = Array.isArray(result) ? result[0] : result;
    if (probabilities === undefined) throw new Error("the model gave no output");
    checkOutputShape(probabilities.shape, count * passes, size);
    if (tta === "none") return probabilities;
    const [plain, ofMirror] = tf.split(probabilities, 2, 0) as [tf.Tensor, tf.Tensor];
    return tf.div(tf.add(plain, tf.reverse(ofMirror, 2)), 2);
  });
  try {
    return (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
}

function checkOutputShape(shape: readonly number[], count: number, size: number): void {
  const [batch, height, width, channels] = shape;
  if (batch !== count || height !== size || width !== size || (channels ?? 1) !== 1) {
    throw new Error(`the model's output is [${shape.join(", ")}], expected [${count}, ${size}, ${size}, 1] (one sclera probability per pixel)`);
  }
}

/** Checks that a model takes size x size inputs, with a message naming both. */
export function checkModelInputSize(model: tf.LayersModel, size: number, what: string): void {
  const [, height, width] = model.inputs[0]?.shape ?? [];
  if (height !== size || width !== size) {
    throw new Error(`the model takes ${String(height)}x${String(width)} images but ${what} are ${size}x${size}; use tensors resized to the model's input size`);
  }
}

export interface SplitInferOptions {
  readonly batchSize: number;
  readonly scaling: InputScaling;
  /** Also predict augmented copies (items with `augmentOf`: flip-augment, augment); default: originals only. */
  readonly includeAugmented?: boolean;
  /** Only the items this accepts (e.g. one attribute's value); default: every item. */
  readonly select?: (item: TensorItem) => boolean;
  /** Test-time augmentation; default none. */
  readonly tta?: Tta;
  readonly signal?: AbortSignal;
  /** After each batch: items done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ItemPrediction {
  readonly item: TensorItem;
  /** size x size probabilities, row-major. */
  readonly probability: Float32Array;
  /** The resized truth from the tensors, size x size, 1 = sclera. */
  readonly mask: Uint8Array;
}

/** The items of a split that inference visits (originals unless `includeAugmented`, those `select` accepts), in manifest order. */
export function itemsToInfer(shards: TensorShards, split: Split, includeAugmented = false, select: (item: TensorItem) => boolean = () => true): TensorItem[] {
  return shards.manifest.items.filter((item) => item.split === split && (includeAugmented || item.augmentOf === null) && select(item));
}

/**
 * Predicts every item of `split` (originals only unless `includeAugmented`; those
 * `select` accepts), reading a shard at a time and yielding each item's map in
 * manifest order.
 */
export async function* inferSplit(model: tf.LayersModel, shards: TensorShards, split: Split, options: SplitInferOptions): AsyncGenerator<ItemPrediction> {
  const { size } = shards.manifest;
  checkModelInputSize(model, size, `the tensors in ${shards.dir}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${options.batchSize}`);
  const select = options.select ?? (() => true);
  const wanted = (item: TensorItem): boolean => (options.includeAugmented === true || item.augmentOf === null) && select(item);
  const total = itemsToInfer(shards, split, options.includeAugmented, select).length;
  const pixels = size * size;
  const imageBytes = pixels * IMAGE_CHANNELS;
  let done = 0;
  options.onProgress?.(0, total);
  for await (const shard of shards.readSplit(split)) {
    const rows = shard.items.map((item, row) => ({ item, row })).filter(({ item }) => wanted(item));
    for (let start = 0; start < rows.length; start += options.batchSize) {
      if (options.signal) await stopPoint(options.signal);
      const batch = rows.slice(start, start + options.batchSize);
      const images = new Uint8Array(batch.length * imageBytes);
      batch.forEach(({ row }, i) => images.set(shard.images.subarray(row * imageBytes, (row + 1) * imageBytes), i * imageBytes));
      const probabilities = await predictProbabilities(model, images, batch.length, size, options.scaling, options.tta);
      for (const [i, { item, row }] of batch.entries()) {
        yield {
          item,
          probability: probabilities.subarray(i * pixels, (i + 1) * pixels),
          mask: shard.masks.subarray(row * pixels, (row + 1) * pixels),
        };
      }
      done += batch.length;
      options.onProgress?.(done, total);
    }
  }
}
