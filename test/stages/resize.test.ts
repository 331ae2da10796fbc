import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";

import type { DatasetItem } from "../../stages/data/dataset-manifest.js";
import { copyTransformed } from "../../stages/data/materialise.js";
import { resizeStage, type ResizeParams } from "../../stages/data/resize.js";
import { openTensorShards, type TensorManifest } from "../../stages/data/tensor-shards.js";
import {
  TempDirs,
  blobMask,
  context,
  item,
  patternPixels,
  runStage,
  sha256File,
  writeDataset,
  writeMaskPng,
  writePng,
} from "./resize-fixtures.js";

const temp = new TempDirs();
afterEach(() => temp.cleanup());

const params32: ResizeParams = { size: 32, kernel: "lanczos3", mask_threshold: 0.5 };

async function resize(dataset: string, params: ResizeParams = params32, signal?: AbortSignal) {
  const out = await temp.make();
  const run = context(params, { dataset }, out, signal);
  const outcome = await runStage(resizeStage, run);
  const dir = path.join(out, "tensors");
  return { out, dir, outcome, progress: run.progress, shards: await openTensorShards(dir) };
}

/** A dataset folder with one item per (image, mask) given, written as PNGs. */
async function datasetOf(
  entries: readonly { id: string; split?: DatasetItem["split"]; image: Parameters<typeof writePng>[1]; mask?: Uint8Array }[],
): Promise<string> {
  const dir = await temp.make();
  const items: DatasetItem[] = [];
  for (const e of entries) {
    const imageFile = `img/${e.id}.png`;
    const maskFile = `mask/${e.id}.png`;
    await writePng(path.join(dir, imageFile), e.image);
    await writeMaskPng(path.join(dir, maskFile), e.image.width, e.image.height, e.mask ?? blobMask(e.image.width, e.image.height));
    items.push(item(e.id, e.split ?? "train", imageFile, maskFile));
  }
  await writeDataset(dir, items);
  return dir;
}

describe("resize", () => {
  it("writes size x size RGB and 0/1 masks per split and records the original sizes", async () => {
    const dataset = await datasetOf([
      { id: "wide", image: patternPixels(64, 40, 3) },
      { id: "tall", split: "val", image: patternPixels(30, 50, 3) },
      { id: "small", split: "test", image: patternPixels(20, 20, 3) },
      { id: "second", image: patternPixels(48, 48, 3) },
    ]);
    const { dir, shards, outcome, progress } = await resize(dataset, { ...params32, size: 40 });
    const m = shards.manifest;

    expect(m).toMatchObject({ version: 1, size: 40, channels: 3 });
    expect(m.splits.train).toEqual({ count: 2, shards: [{ file: "train-00000.bin", count: 2, bytes: 2 * 40 * 40 * 4 }] });
    expect(m.splits.val.count).toBe(1);
    expect(m.splits.test.count).toBe(1);
    // The dataset's own files (here all of them) come along under sources/.
    expect((await readdir(dir)).sort()).toEqual(["manifest.json", "sources", "test-00000.bin", "train-00000.bin", "val-00000.bin"]);
    expect(m.items.map((i) => [i.id, i.split, i.shard, i.index, i.originalWidth, i.originalHeight])).toEqual([
      ["wide", "train", "train-00000.bin", 0, 64, 40],
      ["second", "train", "train-00000.bin", 1, 48, 48],
      ["tall", "val", "val-00000.bin", 0, 30, 50],
      ["small", "test", "test-00000.bin", 0, 20, 20],
    ]);
    expect(m.items[0]).toMatchObject({
      image: "sources/img/wide.png",
      mask: "sources/mask/wide.png",
      subject: "s-wide",
      attributes: { eye: "L", source: "fixture" },
      transform: null,
      augmentOf: null,
    });

    for await (const batch of shards.readSplit("train")) {
      expect(batch.images.length).toBe(2 * 40 * 40 * 3);
      expect(batch.masks.length).toBe(2 * 40 * 40);
      expect(new Set(batch.masks)).toEqual(new Set([0, 1]));
    }
    expect(outcome.metrics).toMatchObject({ items_train: 2, items_val: 1, items_test: 1 });
    expect(outcome.metrics?.["images_per_second"]).toBeGreaterThan(0);
    expect(progress.at(-1)).toEqual({ current: 4, total: 4, unit: "images" });
  });

  it("turns grey images into RGB and drops alpha", async () => {
    const grey = patternPixels(32, 32, 1);
    const rgba = patternPixels(32, 32, 4);
    rgba.data.forEach((_, i) => {
      if (i % 4 === 3) rgba.data[i] = i % 8 === 3 ? 40 : 200; // uneven alpha must not leak into RGB
    });
    const dataset = await datasetOf([
      { id: "grey", image: grey },
      { id: "rgba", image: rgba },
    ]);
    expect((await sharp(path.join(dataset, "img/grey.png")).metadata()).channels).toBe(1);
    expect((await sharp(path.join(dataset, "img/rgba.png")).metadata()).channels).toBe(4);
    const { shards } = await resize(dataset);

    const g = await shards.readItem("grey");
    const expectedGrey = new Uint8Array(32 * 32 * 3);
    grey.data.forEach((v, i) => expectedGrey.fill(v, i * 3, i * 3 + 3));
    expect(g.image).toEqual(expectedGrey);

    const c = await shards.readItem("rgba");
    expect(c.image).toEqual(rgba.data.filter((_, i) => i % 4 !== 3));
  });

  it("honours EXIF orientation for the image, its size and the mask check", async () => {
    const dir = await temp.make();
    // Stored 40 wide x 20 high: left half red, right half blue. Orientation 6 shows it
    // rotated 90 degrees clockwise: 20 wide x 40 high, red on top, blue below.
    const stored = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 40; x++) stored.set(x < 20 ? [230, 10, 10] : [10, 10, 230], (y * 40 + x) * 3);
    }
    await sharp(Buffer.from(stored), { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(path.join(dir, "photo.jpg"));
    await writeMaskPng(path.join(dir, "upright.png"), 20, 40, blobMask(20, 40));
    await writeMaskPng(path.join(dir, "stored.png"), 40, 20, blobMask(40, 20));
    await writeDataset(dir, [item("photo", "train", "photo.jpg", "upright.png")]);

    const { shards } = await resize(dir);
    const photo = await shards.readItem("photo");
    expect(photo.item).toMatchObject({ originalWidth: 20, originalHeight: 40 });
    const pixel = (x: number, y: number) => [...photo.image.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)];
    const [r0, , b0] = pixel(16, 2);
    const [r1, , b1] = pixel(16, 29);
    expect(r0).toBeGreaterThan(180);
    expect(b0).toBeLessThan(60);
    expect(b1).toBeGreaterThan(180);
    expect(r1).toBeLessThan(60);

    await writeDataset(dir, [item("photo", "train", "photo.jpg", "stored.png")]);
    await expect(resize(dir)).rejects.toThrow(
      `${path.join(dir, "stored.png")}, ${path.join(dir, "photo.jpg")}: mask is 40x20 but its image is 20x40 (after EXIF orientation)`,
    );
  });

  it("re-binarises resized masks at mask_threshold", async () => {
    // Alternate columns: every pixel of the half-size mask is about half covered.
    const stripes = new Uint8Array(64 * 64).map((_, i) => (i % 2 === 0 ? 1 : 0));
    const solid = blobMask(100, 70);
    const dataset = await datasetOf([
      { id: "stripes", image: patternPixels(64, 64, 3), mask: stripes },
      { id: "blob", image: patternPixels(100, 70, 3), mask: solid },
    ]);
    const low = await resize(dataset, { ...params32, mask_threshold: 0.3 });
    const high = await resize(dataset, { ...params32, mask_threshold: 0.7 });

    expect(new Set((await low.shards.readItem("stripes")).mask)).toEqual(new Set([1]));
    expect(new Set((await high.shards.readItem("stripes")).mask)).toEqual(new Set([0]));
    const blob = (await low.shards.readItem("blob")).mask;
    expect(new Set(blob)).toEqual(new Set([0, 1]));
    expect(blob[0]).toBe(1); // the blob covers the top-left corner
    expect(blob[32 * 32 - 1]).toBe(0);
  });

  it("stores mirrored items exactly as sharp's flop/flip before the resize would", async () => {
    const dir = await temp.make();
    const odd = patternPixels(75, 41, 3);
    await sharp(Buffer.from(odd.data), { raw: { width: 75, height: 41, channels: 3 } }).jpeg().toFile(path.join(dir, "odd.jpg"));
    await writeMaskPng(path.join(dir, "odd.png"), 75, 41, blobMask(75, 41));
    const base = item("odd", "train", "odd.jpg", "odd.png");
    await writeDataset(dir, [
      base,
      { ...base, id: "odd_fliph", transform: { flip: "horizontal" }, augmentOf: "odd" },
      { ...base, id: "odd_flipv", transform: { flip: "vertical" }, augmentOf: "odd" },
    ]);
    const { shards } = await resize(dir, { size: 48, kernel: "mitchell", mask_threshold: 0.5 });
    const direct = (mirror: "flop" | "flip") =>
      sharp(path.join(dir, "odd.jpg")).rotate()[mirror]().resize(48, 48, { fit: "fill", kernel: "mitchell" }).raw().toBuffer();

    expect(Buffer.from((await shards.readItem("odd_fliph")).image)).toEqual(await direct("flop"));
    expect(Buffer.from((await shards.readItem("odd_flipv")).image)).toEqual(await direct("flip"));
    const original = await shards.readItem("odd");
    expect(Buffer.from(original.image)).not.toEqual(await direct("flop"));
  });

  it("mirrors resized pixels without touching the shared source", () => {
    const grey = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const out = new Uint8Array(9);
    copyTransformed(grey, out, 3, 1, { flip: "horizontal" });
    expect([...out]).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]);
    copyTransformed(grey, out, 3, 1, { flip: "vertical" });
    expect([...out]).toEqual([7, 8, 9, 4, 5, 6, 1, 2, 3]);
    expect([...grey]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const rgb = Uint8Array.from({ length: 12 }, (_, i) => i);
    const mirrored = new Uint8Array(12);
    copyTransformed(rgb, mirrored, 2, 3, { flip: "horizontal" });
    expect([...mirrored]).toEqual([3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]);
    expect([...rgb]).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it("gives identical bytes for the same input", async () => {
    const dataset = await datasetOf([
      { id: "a", image: patternPixels(50, 37, 3) },
      { id: "b", split: "val", image: patternPixels(33, 61, 1) },
      { id: "c", image: patternPixels(45, 45, 4) },
    ]);
    const first = await resize(dataset);
    const second = await resize(dataset);
    const files = (await readdir(first.dir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile()).map((f) => path.relative(first.dir, path.join(f.parentPath, f.name))).sort();
    expect(files).toContain("sources/img/a.png");
    expect((await readdir(second.dir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile()).map((f) => path.relative(second.dir, path.join(f.parentPath, f.name))).sort()).toEqual(files);
    for (const file of files) {
      expect(await readFile(path.join(second.dir, file))).toEqual(await readFile(path.join(first.dir, file)));
    }
  });

  it("fails naming unreadable images and mismatched masks, five at most, without touching sources", async () => {
    const dir = await temp.make();
    const items: DatasetItem[] = [];
    await writePng(path.join(dir, "good.png"), patternPixels(32, 32, 3));
    await writeMaskPng(path.join(dir, "good-mask.png"), 32, 32, blobMask(32, 32));
    await writeMaskPng(path.join(dir, "small-mask.png"), 16, 16, blobMask(16, 16));
    items.push(item("good", "train", "good.png", "good-mask.png"));
    items.push(item("mismatch", "val", "good.png", "small-mask.png"));
    items.push(item("missing", "train", "nowhere.png", "good-mask.png"));
    for (let n = 0; n < 5; n++) {
      await writeFile(path.join(dir, `broken${n}.jpg`), "not a JPEG at all");
      items.push(item(`broken${n}`, "test", `broken${n}.jpg`, "good-mask.png"));
    }
    await writeDataset(dir, items);
    const before = await Promise.all(["good.png", "good-mask.png", "broken0.jpg"].map((f) => sha256File(path.join(dir, f))));

    const error = await resize(dir).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message.split("\n")[0]).toBe("resize: 7 input file problems:");
    expect(error?.message).toContain(`${path.join(dir, "broken0.jpg")}: cannot read image:`);
    expect(error?.message).toContain("and 2 more");
    expect(error?.message.split("\n")).toHaveLength(1 + 5 + 1);

    const only = await temp.make();
    await writeDataset(only, [
      { ...items[1]!, image: { ...items[1]!.image, path: path.join(dir, "good.png") }, mask: { ...items[1]!.mask, path: path.join(dir, "small-mask.png") } },
      { ...items[2]!, image: { ...items[2]!.image, path: path.join(dir, "nowhere.png") }, mask: { ...items[2]!.mask, path: path.join(dir, "good-mask.png") } },
    ]);
    const two = await resize(only).then(
      () => "",
      (e: unknown) => (e as Error).message,
    );
    expect(two).toMatch(/^resize: 2 input file problems:\n/);
    expect(two).toContain(`${path.join(dir, "nowhere.png")}: cannot read image: ENOENT`);
    expect(two).toContain(`${path.join(dir, "small-mask.png")}, ${path.join(dir, "good.png")}: mask is 16x16 but its image is 32x32`);
    expect(two).not.toContain("more");

    const after = await Promise.all(["good.png", "good-mask.png", "broken0.jpg"].map((f) => sha256File(path.join(dir, f))));
    expect(after).toEqual(before);
  });

  it("stops when the signal is aborted", async () => {
    const dataset = await datasetOf([
      { id: "a", image: patternPixels(40, 40, 3) },
      { id: "b", image: patternPixels(40, 40, 3) },
    ]);
    const controller = new AbortController();
    controller.abort(new Error("interrupted by test"));
    await expect(resize(dataset, params32, controller.signal)).rejects.toThrow("interrupted by test");
  });

  it("writes a manifest that maps every row back to its source", async () => {
    const dataset = await datasetOf([{ id: "a", image: patternPixels(70, 35, 3) }]);
    const { dir } = await resize(dataset, { size: 32, kernel: "mitchell", mask_threshold: 0.5 });
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as TensorManifest;
    expect(manifest.provenance).toEqual({ kernel: "mitchell", maskKernel: "linear", maskThreshold: 0.5 });
    expect(manifest.items[0]).toMatchObject({ id: "a", originalWidth: 70, originalHeight: 35, shard: "train-00000.bin", index: 0 });
  });
});
