import { readFile, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

import type { Split } from "../../stages/data/dataset-manifest.js";
import {
  TensorShardWriter,
  openTensorShards,
  type TensorBatch,
  type TensorItemInfo,
} from "../../stages/data/tensor-shards.js";
import { TempDirs } from "./resize-fixtures.js";

const temp = new TempDirs();
afterEach(() => temp.cleanup());

const SIZE = 4;
const provenance = { kernel: "lanczos3", maskKernel: "linear", maskThreshold: 0.5 };

function info(id: string): TensorItemInfo {
  return {
    id,
    image: `/data/${id}.jpg`,
    imageSha256: "0".repeat(64),
    mask: `/data/${id}.png`,
    originalWidth: 640,
    originalHeight: 480,
    subject: "s1",
    attributes: { eye: "L" },
    transform: id.endsWith("_fliph") ? { flip: "horizontal" } : null,
    augmentOf: id.endsWith("_fliph") ? id.slice(0, -6) : null,
  };
}

/** Image bytes that identify the item (its number) and the pixel; mask = parity of the number. */
function fill(n: number, image: Uint8Array, mask: Uint8Array): void {
  image.forEach((_, i) => (image[i] = (n * 16 + i) % 256));
  mask.fill(n % 2);
}

/** Writes `counts[split]` items per split with a shard capacity of 2. */
async function writeFixture(counts: Partial<Record<Split, number>>): Promise<string> {
  const dir = path.join(await temp.make(), "tensors");
  const writer = await TensorShardWriter.create(dir, { size: SIZE, shardCapacity: 2, provenance });
  let n = 0;
  for (const split of ["train", "val", "test"] as const) {
    const total = counts[split] ?? 0;
    for (const count of writer.plan(total)) {
      const shard = writer.startShard(split, count);
      const infos: TensorItemInfo[] = [];
      for (let row = 0; row < count; row++) {
        fill(n, shard.image(row), shard.mask(row));
        infos.push(info(`${split}${n}`));
        n++;
      }
      await writer.commitShard(shard, infos);
    }
  }
  await writer.finish();
  return dir;
}

async function collect(batches: AsyncIterable<TensorBatch>): Promise<TensorBatch[]> {
  const out: TensorBatch[] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

describe("tensor shards", () => {
  it("round-trips images, masks and item records through the reader", async () => {
    const dir = await writeFixture({ train: 5, val: 1 });
    const shards = await openTensorShards(dir);
    expect(shards.manifest.splits.train).toEqual({
      count: 5,
      shards: [
        { file: "train-00000.bin", count: 2, bytes: 2 * SIZE * SIZE * 4 },
        { file: "train-00001.bin", count: 2, bytes: 2 * SIZE * SIZE * 4 },
        { file: "train-00002.bin", count: 1, bytes: 1 * SIZE * SIZE * 4 },
      ],
    });
    expect(shards.manifest.splits.test).toEqual({ count: 0, shards: [] });

    const batches = await collect(shards.readSplit("train"));
    expect(batches.map((b) => [b.file, b.count, b.items.map((i) => i.id)])).toEqual([
      ["train-00000.bin", 2, ["train0", "train1"]],
      ["train-00001.bin", 2, ["train2", "train3"]],
      ["train-00002.bin", 1, ["train4"]],
    ]);
    const image = new Uint8Array(SIZE * SIZE * 3);
    const mask = new Uint8Array(SIZE * SIZE);
    for (const batch of batches) {
      for (const [row, item] of batch.items.entries()) {
        const n = Number(item.id.replace("train", ""));
        fill(n, image, mask);
        expect(batch.images.subarray(row * image.length, (row + 1) * image.length)).toEqual(image);
        expect(batch.masks.subarray(row * mask.length, (row + 1) * mask.length)).toEqual(mask);
        const single = await shards.readItem(item.id);
        expect(single.image).toEqual(image);
        expect(single.mask).toEqual(mask);
        expect(single.item).toEqual({ ...info(item.id), split: "train", shard: batch.file, index: row });
      }
    }
    expect(await collect(shards.readSplit("test"))).toEqual([]);
    expect((await shards.readItem("val5")).mask).toEqual(new Uint8Array(SIZE * SIZE).fill(1));
  });

  it("rejects a shard whose size does not match the manifest", async () => {
    const dir = await writeFixture({ train: 3 });
    await truncate(path.join(dir, "train-00001.bin"), 10);
    const shards = await openTensorShards(dir);
    await expect(collect(shards.readSplit("train"))).rejects.toThrow(
      `tensor shard ${path.join(dir, "train-00001.bin")} is 10 bytes; 1 items of 4x4 need 64`,
    );
    await expect(shards.readItem("train2")).rejects.toThrow("is 10 bytes");
  });

  it("rejects manifests of another version and unknown items", async () => {
    const dir = await writeFixture({ train: 1 });
    const shards = await openTensorShards(dir);
    await expect(shards.readItem("nope")).rejects.toThrow('no item "nope"');

    const file = path.join(dir, "manifest.json");
    const manifest = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...manifest, version: 2 }));
    await expect(openTensorShards(dir)).rejects.toThrow("expected version 1, found 2");
  });

  it("checks the writer's bookkeeping", async () => {
    const writer = await TensorShardWriter.create(await temp.make(), { size: SIZE, shardCapacity: 2, provenance });
    expect(writer.plan(0)).toEqual([]);
    expect(writer.plan(5)).toEqual([2, 2, 1]);
    expect(() => writer.startShard("train", 3)).toThrow("a shard holds 1..2 items, got 3");
    const shard = writer.startShard("train", 2);
    expect(() => shard.image(2)).toThrow("row 2 is outside shard train-00000.bin");
    await expect(writer.commitShard(shard, [info("x")])).rejects.toThrow("has 2 rows but 1 items were given");
  });
});
