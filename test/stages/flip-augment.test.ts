import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

import type { DatasetManifest } from "../../stages/data/dataset-manifest.js";
import { flipAugmentStage, type FlipAugmentParams } from "../../stages/data/flip-augment.js";
import { resizeStage, type ResizeParams } from "../../stages/data/resize.js";
import { openTensorShards } from "../../stages/data/tensor-shards.js";
import {
  TempDirs,
  blobMask,
  context,
  item,
  mirrorColumns,
  mirrorRows,
  patternPixels,
  runStage,
  writeDataset,
  writeMaskPng,
  writePng,
} from "./resize-fixtures.js";

const temp = new TempDirs();
afterEach(() => temp.cleanup());

const defaults: FlipAugmentParams = { splits: ["train"], flips: ["horizontal"] };

/** A dataset folder with two train items, one val, one test; paths relative to the folder. */
async function fourItemDataset(): Promise<string> {
  const dir = await temp.make();
  const items = [
    item("a", "train", "images/a.png", "masks/a.png"),
    item("b", "train", "images/b.png", "masks/b.png", { attributes: { eye: "R", gaze: "up" } }),
    item("c", "val", "images/c.png", "masks/c.png"),
    item("d", "test", "images/d.png", "masks/d.png", { subject: null }),
  ];
  for (const it of items) {
    await writePng(path.join(dir, it.image.path), patternPixels(32, 32, 3));
    await writeMaskPng(path.join(dir, it.mask.path), 32, 32, blobMask(32, 32));
  }
  await writeDataset(dir, items);
  return dir;
}

async function flip(input: string, params: FlipAugmentParams = defaults) {
  const out = await temp.make();
  const outcome = await runStage(flipAugmentStage, context(params, { dataset: input }, out));
  const manifest = JSON.parse(await readFile(path.join(out, "dataset", "manifest.json"), "utf8")) as DatasetManifest;
  return { out, outcome, manifest };
}

describe("flip-augment", () => {
  it("mirrors train items only, next to their originals, keeping split, subject and attributes", async () => {
    const input = await fourItemDataset();
    const { manifest, outcome } = await flip(input);

    expect(manifest.items.map((i) => i.id)).toEqual(["a", "a_fliph", "b", "b_fliph", "c", "d"]);
    const b = manifest.items.find((i) => i.id === "b_fliph");
    expect(b).toMatchObject({
      split: "train",
      subject: "s-b",
      attributes: { eye: "R", gaze: "up" },
      transform: { flip: "horizontal" },
      augmentOf: "b",
    });
    expect(outcome.metrics).toEqual({ items_before: 4, items_after: 6 });
  });

  it("leaves val and test items as they were", async () => {
    const input = await fourItemDataset();
    const original = JSON.parse(await readFile(path.join(input, "manifest.json"), "utf8")) as DatasetManifest;
    const { manifest } = await flip(input);

    for (const id of ["c", "d"]) {
      const before = original.items.find((i) => i.id === id);
      const after = manifest.items.find((i) => i.id === id);
      expect(after).toEqual(before);
      expect(after?.transform).toBeUndefined();
    }
  });

  it("carries the files of the input artifact into its own folder (hard links), so no path leads into another artifact", async () => {
    const input = await fourItemDataset();
    const { manifest, out } = await flip(input);
    const outputDir = path.join(out, "dataset");
    for (const it of manifest.items) {
      expect(path.isAbsolute(it.image.path) || it.image.path.startsWith("..")).toBe(false);
      for (const file of [it.image.path, it.mask.path]) {
        expect((await stat(path.join(outputDir, file))).ino).toBe((await stat(path.join(input, file))).ino);
      }
    }
    expect(manifest.items.find((i) => i.id === "a_fliph")?.image.path).toBe("images/a.png");
  });

  it("passes on the user's files as paths relative to the experiment file, without copying them", async () => {
    const dir = await temp.make();
    const outside = { path: "../data/a.png", base: "experiment" as const };
    await writeDataset(dir, [item("a", "train", "x", "y", { image: { ...outside, sha256: "0", width: 1, height: 1 }, mask: { ...outside, sha256: "0", width: 1, height: 1 } })]);
    const { manifest, out } = await flip(dir);
    expect(manifest.items.map((i) => i.image)).toEqual([expect.objectContaining(outside), expect.objectContaining(outside)]);
    expect(await readdir(path.join(out, "dataset"))).toEqual(["manifest.json"]);
  });

  it("adds vertical flips and flips the chosen splits", async () => {
    const input = await fourItemDataset();
    const { manifest, outcome } = await flip(input, { splits: ["train", "val"], flips: ["horizontal", "vertical"] });
    expect(manifest.items.map((i) => i.id)).toEqual([
      "a", "a_fliph", "a_flipv", "b", "b_fliph", "b_flipv", "c", "c_fliph", "c_flipv", "d",
    ]);
    expect(manifest.items.find((i) => i.id === "c_flipv")).toMatchObject({ split: "val", transform: { flip: "vertical" } });
    expect(outcome.metrics).toEqual({ items_before: 4, items_after: 10 });
  });

  it("does not mirror items that already carry a transform", async () => {
    const dir = await temp.make();
    await writeDataset(dir, [
      item("a", "train", "/data/a.png", "/data/a-mask.png"),
      item("a_flipv", "train", "/data/a.png", "/data/a-mask.png", { transform: { flip: "vertical" }, augmentOf: "a" }),
    ]);
    const { manifest } = await flip(dir);
    expect(manifest.items.map((i) => i.id)).toEqual(["a", "a_fliph", "a_flipv"]);
  });

  it("refuses an input whose ids would collide with a mirrored item", async () => {
    const dir = await temp.make();
    await writeDataset(dir, [item("a", "train", "/x.png", "/m.png"), item("a_fliph", "val", "/y.png", "/n.png")]);
    await expect(flip(dir)).rejects.toThrow('item id "a_fliph" already exists');
  });

  it("gives pixel-exact mirrors once resize materialises them", async () => {
    const input = await fourItemDataset();
    const { out } = await flip(input, { splits: ["train"], flips: ["horizontal", "vertical"] });
    const tensorsOut = await temp.make();
    const params: ResizeParams = { size: 32, kernel: "lanczos3", mask_threshold: 0.5 };
    await runStage(resizeStage, context(params, { dataset: path.join(out, "dataset") }, tensorsOut));

    const shards = await openTensorShards(path.join(tensorsOut, "tensors"));
    const original = await shards.readItem("a");
    const mask = blobMask(32, 32);
    expect(original.image).toEqual(patternPixels(32, 32, 3).data);
    expect(original.mask).toEqual(mask);

    const h = await shards.readItem("a_fliph");
    expect(h.image).toEqual(mirrorRows(original.image, 32, 32, 3));
    expect(h.mask).toEqual(mirrorRows(mask, 32, 32, 1));
    expect(h.item).toMatchObject({ augmentOf: "a", transform: { flip: "horizontal" } });

    const v = await shards.readItem("a_flipv");
    expect(v.image).toEqual(mirrorColumns(original.image, 32, 32, 3));
    expect(v.mask).toEqual(mirrorColumns(mask, 32, 32, 1));
  });
});
