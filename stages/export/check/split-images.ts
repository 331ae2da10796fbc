/**
 * Images of one split of a run's tensors (the resize stage's output), gathered into one
 * buffer: the test split for an export's self-check, a sample of the training split to
 * calibrate int8 quantisation on.
 */
import type { Split } from "../../data/dataset-manifest.js";
import { IMAGE_CHANNELS, openTensorShards, type TensorItem } from "../../data/tensor-shards.js";

export interface SplitImages {
  readonly split: Split;
  readonly count: number;
  readonly size: number;
  /** count x size x size x 3 pixel values, NHWC. */
  readonly pixels: Uint8Array;
  /** count x size x size truth, 1 = sclera. */
  readonly masks: Uint8Array;
}

export interface SplitImageOptions {
  /** Also take augmented copies (flip-augment, augment: training sees them; the test split has none by default). Default false. */
  readonly includeAugmented?: boolean;
  /** At most this many, spread evenly over the split in manifest order. Default: all. */
  readonly limit?: number;
}

/** The items `readSplitImages` takes: every one, or `limit` of them at even steps. */
export function pickItems(items: readonly TensorItem[], limit: number | undefined): TensorItem[] {
  if (limit === undefined || limit >= items.length) return [...items];
  if (limit <= 0) return [];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)] as TensorItem);
}

export async function readSplitImages(tensorsDir: string, split: Split, options: SplitImageOptions = {}): Promise<SplitImages> {
  const shards = await openTensorShards(tensorsDir);
  const { size } = shards.manifest;
  const inSplit = shards.manifest.items.filter((item) => item.split === split && (options.includeAugmented === true || item.augmentOf === null));
  const chosen = new Set(pickItems(inSplit, options.limit).map((item) => item.id));
  const pixels = new Uint8Array(chosen.size * size * size * IMAGE_CHANNELS);
  const masks = new Uint8Array(chosen.size * size * size);
  const imageBytes = size * size * IMAGE_CHANNELS;
  const maskBytes = size * size;
  let count = 0;
  if (chosen.size > 0) {
    for await (const shard of shards.readSplit(split)) {
      for (const [row, item] of shard.items.entries()) {
        if (!chosen.has(item.id)) continue;
        pixels.set(shard.images.subarray(row * imageBytes, (row + 1) * imageBytes), count * imageBytes);
        masks.set(shard.masks.subarray(row * maskBytes, (row + 1) * maskBytes), count * maskBytes);
        count += 1;
      }
    }
  }
  return { split, count, size, pixels: pixels.subarray(0, count * imageBytes), masks: masks.subarray(0, count * maskBytes) };
}
