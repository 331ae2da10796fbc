/** The augment stage: its manifest, its preview, its checks, and what resize makes of its copies. */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";

import { loadExperiment } from "../../pipeline/config/load-experiment.js";
import { MuPipeError } from "../../pipeline/failure.js";
import type { StageReportContext } from "../../pipeline/stage.js";
import { augmentPixels } from "../../stages/data/augment-ops.js";
import { augmentStage, type AugmentParams } from "../../stages/data/augment.js";
import { readDatasetFacts } from "../../stages/data/dataset-facts.js";
import type { DatasetItem, DatasetManifest } from "../../stages/data/dataset-manifest.js";
import { resizeStage, type ResizeParams } from "../../stages/data/resize.js";
import { openTensorShards } from "../../stages/data/tensor-shards.js";
import { builtinRegistry } from "../../stages/registry.js";
import { DEFAULT_PARAMS } from "./augment-fixtures.js";
import { TempDirs, context, item, mirrorRows, patternPixels, runStage, writeDataset, writeMaskPng, writePng } from "./resize-fixtures.js";

const temp = new TempDirs();
afterEach(() => temp.cleanup());

const SIZE = 32;

/** Black with a red square at (8..19, 10..21); the mask is that square. */
function redSquare(): { image: Uint8Array; mask: Uint8Array } {
  const image = new Uint8Array(SIZE * SIZE * 3);
  const mask = new Uint8Array(SIZE * SIZE);
  for (let y = 10; y < 22; y++) {
    for (let x = 8; x < 20; x++) {
      image[(y * SIZE + x) * 3] = 255;
      mask[y * SIZE + x] = 1;
    }
  }
  return { image, mask };
}

/** Three items (a, b train; c val) of 32x32 PNGs whose masks are their red squares; `order` permutes the manifest. */
async function threeItemDataset(order: readonly string[] = ["a", "b", "c"], extra: readonly DatasetItem[] = []): Promise<string> {
  const dir = await temp.make();
  const square = redSquare();
  const items = new Map<string, DatasetItem>();
  for (const [id, split] of [["a", "train"], ["b", "train"], ["c", "val"]] as const) {
    const image = id === "a" ? square.image : patternPixels(SIZE, SIZE, 3).data;
    await writePng(path.join(dir, `images/${id}.png`), { width: SIZE, height: SIZE, channels: 3, data: image });
    await writeMaskPng(path.join(dir, `masks/${id}.png`), SIZE, SIZE, square.mask);
    items.set(id, item(id, split, `images/${id}.png`, `masks/${id}.png`));
  }
  await writeDataset(dir, [...order.map((id) => items.get(id) as DatasetItem), ...extra]);
  return dir;
}

async function augment(input: string, params: Partial<AugmentParams> = {}) {
  const out = await temp.make();
  const outcome = await runStage(augmentStage, context({ ...DEFAULT_PARAMS, ...params }, { dataset: input }, out));
  const manifest = JSON.parse(await readFile(path.join(out, "dataset", "manifest.json"), "utf8")) as DatasetManifest;
  return { out, outcome, manifest };
}

const transformsById = (manifest: DatasetManifest): Record<string, unknown> => Object.fromEntries(manifest.items.map((i) => [i.id, i.transform]));

describe("augment", () => {
  it("adds `copies` copies after each item of the chosen splits, recording the values drawn", async () => {
    const { manifest, outcome } = await augment(await threeItemDataset());
    expect(manifest.items.map((i) => i.id)).toEqual(["a", "a_aug1", "a_aug2", "b", "b_aug1", "b_aug2", "c"]);
    const copy = manifest.items[1];
    expect(copy).toMatchObject({ split: "train", subject: "s-a", augmentOf: "a", image: { path: "images/a.png" } });
    expect(Object.keys(copy?.transform ?? {})).toEqual(["augment"]);
    expect(Object.keys(copy?.transform?.augment ?? {}).sort()).toEqual(
      ["blur", "brightness", "contrast", "gamma", "hue", "jpeg", "noise", "noiseSeed", "rotate", "saturation", "scale", "tx", "ty"],
    );
    expect(manifest.items[1]?.transform).not.toEqual(manifest.items[2]?.transform);
    expect(outcome.metrics).toEqual({ items_before: 3, items_after: 7, preview: "preview.png" });
  });

  it("draws the same values in another run and whatever the order of the items", async () => {
    const first = await augment(await threeItemDataset());
    const again = await augment(await threeItemDataset());
    const reordered = await augment(await threeItemDataset(["c", "b", "a"]));
    expect(again.manifest).toEqual(first.manifest);
    expect(transformsById(reordered.manifest)).toEqual(transformsById(first.manifest));
    expect(reordered.manifest.items.map((i) => i.id)).toEqual(["c", "b", "b_aug1", "b_aug2", "a", "a_aug1", "a_aug2"]);
  });

  it("augments mirrored copies too (keeping their flip) unless include_augmented is false, and never augments twice", async () => {
    const mirrored = item("a_fliph", "train", "images/a.png", "masks/a.png", { transform: { flip: "horizontal" }, augmentOf: "a" });
    const augmented = item("b_old", "train", "images/b.png", "masks/b.png", { transform: { augment: (await augment(await threeItemDataset())).manifest.items[1]!.transform!.augment! }, augmentOf: "b" });
    const input = await threeItemDataset(["a", "b", "c"], [mirrored, augmented]);
    const { manifest } = await augment(input, { copies: 1 });
    expect(manifest.items.map((i) => i.id)).toEqual(["a", "a_aug1", "b", "b_aug1", "c", "a_fliph", "a_fliph_aug1", "b_old"]);
    expect(manifest.items[6]).toMatchObject({ augmentOf: "a", transform: { flip: "horizontal", augment: expect.any(Object) } });

    const without = await augment(input, { copies: 1, include_augmented: false, splits: ["train", "val"] });
    expect(without.manifest.items.map((i) => i.id)).toEqual(["a", "a_aug1", "b", "b_aug1", "c", "c_aug1", "a_fliph", "b_old"]);
  });

  it("refuses an input whose ids would collide with a copy", async () => {
    const input = await threeItemDataset(["a", "b", "c"], [item("a_aug2", "val", "images/c.png", "masks/c.png")]);
    await expect(augment(input)).rejects.toThrow('augment: item id "a_aug2" already exists in the input manifest');
  });

  it("names the param at fault: a range upside down (run and preflight), copies 0 (the schema)", async () => {
    const input = await threeItemDataset();
    await expect(augment(input, { scale: [1.5, 1.0] })).rejects.toThrow("augment: params.scale must be [min, max] with min <= max, got [1.5, 1]");
    const preflight = augmentStage.preflight?.({ stageId: "aug", params: { ...DEFAULT_PARAMS, gamma: [2, 1] }, inputs: {} });
    expect(preflight).toEqual([{ keyPath: "stages.aug.params.gamma", message: "must be [min, max] with min <= max, got [2, 1]" }]);

    const dir = await temp.make();
    const yaml = ["experiment: e", "stages:", "  load: { uses: load, params: { source: { kind: synthetic, count: 4 } } }", "  aug:", "    uses: augment", "    inputs: { dataset: load }", "    params: { copies: 0 }", ""];
    await writeFile(path.join(dir, "e.yaml"), yaml.join("\n"));
    const loading = loadExperiment("e.yaml", { overrides: [], registry: builtinRegistry(), cwd: dir });
    const error = await loading.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(MuPipeError);
    const failure = (error as MuPipeError).failure;
    expect(failure.reason === "config-invalid" && failure.diagnostics.map((d) => [d.keyPath, d.message])).toEqual([["stages.aug.params.copies", "must be >= 1, found 0"]]);
  });

  it("writes preview.png: a row per original with its copies, 128 px tiles", async () => {
    const { out } = await augment(await threeItemDataset());
    const meta = await sharp(path.join(out, "preview.png")).metadata();
    // Two train originals (rows), each with two copies: 3 tiles of 128 and gaps of 4.
    expect([meta.width, meta.height]).toEqual([3 * 128 + 2 * 4, 2 * 128 + 4]);

    const many = await augment(await threeItemDataset(), { copies: 5, splits: ["train", "val"] });
    const big = await sharp(path.join(many.out, "preview.png")).metadata();
    expect([big.width, big.height]).toEqual([4 * 128 + 3 * 4, 3 * 128 + 2 * 4]);

    const report = await augmentStage.report?.(reportContext(out));
    expect(report?.[0]?.blocks[0]).toEqual({ kind: "images", title: "Preview", images: [{ file: path.join(out, "preview.png"), caption: expect.any(String) }] });
    expect(report?.[0]?.blocks.at(-1)).toMatchObject({ kind: "table", title: "Values drawn for 4 copies" });
  });

  it("has resize render each copy as the drawn values say, the mask moving with the image", async () => {
    const geometricOnly: Partial<AugmentParams> = { rotate: 40, scale: [0.8, 1.3], translate: 0.15, brightness: 0, contrast: 0, gamma: null, hue: 0, saturation: 0, blur: 0, noise: 0, jpeg: 0 };
    const mirrored = item("a_fliph", "train", "images/a.png", "masks/a.png", { transform: { flip: "horizontal" }, augmentOf: "a" });
    const { out, manifest } = await augment(await threeItemDataset(["a", "b", "c"], [mirrored]), { ...geometricOnly, copies: 3 });
    const tensorsOut = await temp.make();
    const params: ResizeParams = { size: SIZE, kernel: "lanczos3", mask_threshold: 0.5 };
    await runStage(resizeStage, context(params, { dataset: path.join(out, "dataset") }, tensorsOut));
    const shards = await openTensorShards(path.join(tensorsOut, "tensors"));

    const original = await shards.readItem("a");
    expect(original.image).toEqual(redSquare().image);
    for (const id of ["a_aug1", "a_aug2", "a_aug3"]) {
      const copy = await shards.readItem(id);
      const drawn = manifest.items.find((i) => i.id === id)?.transform?.augment;
      expect(drawn).toBeDefined();
      expect(copy.item.transform).toEqual({ augment: drawn });
      expect(copy.mask).not.toEqual(original.mask);
      expect(new Set(copy.mask)).toEqual(new Set([0, 1]));
      // Exactly the pure ops on the resized original ...
      const expected = augmentPixels(original.image, original.mask, SIZE, drawn!);
      expect(copy.image).toEqual(expected.image);
      expect(copy.mask).toEqual(expected.mask);
      // ... and the red square still lies under the mask.
      let agree = 0;
      for (let i = 0; i < copy.mask.length; i++) if ((copy.image[i * 3]! > 127) === (copy.mask[i] === 1)) agree++;
      expect(agree / copy.mask.length).toBeGreaterThan(0.97);
    }
    // A mirrored copy's copies: the flip first, then the augmentation.
    const flipped = await shards.readItem("a_fliph_aug1");
    const drawn = flipped.item.transform?.augment;
    expect(flipped.item.transform).toMatchObject({ flip: "horizontal" });
    const expected = augmentPixels(mirrorRows(original.image, SIZE, SIZE, 3), mirrorRows(original.mask, SIZE, SIZE, 1), SIZE, drawn!);
    expect(flipped.image).toEqual(expected.image);
    expect(flipped.mask).toEqual(expected.mask);
  });

  it("changes the pixels with the default photometric ops and keeps masks 0/1", async () => {
    const { out } = await augment(await threeItemDataset(), { jpeg: 1 });
    const tensorsOut = await temp.make();
    await runStage(resizeStage, context({ size: SIZE, kernel: "lanczos3", mask_threshold: 0.5 } satisfies ResizeParams, { dataset: path.join(out, "dataset") }, tensorsOut));
    const shards = await openTensorShards(path.join(tensorsOut, "tensors"));
    const original = await shards.readItem("b");
    const copy = await shards.readItem("b_aug1");
    expect(copy.item.transform?.augment?.jpeg).toBeGreaterThanOrEqual(30);
    expect(copy.image).not.toEqual(original.image);
    expect(new Set(copy.mask)).toEqual(new Set([0, 1]));
  });

  it("predicts the copies each split will have", () => {
    const load = { dataset_stage: "load", train: 10, val: 2, test: 3, copies_train: 10, copies_val: 0, copies_test: 0 };
    const facts = augmentStage.facts?.({ stageId: "aug", params: { ...DEFAULT_PARAMS }, inputs: { dataset: load }, metrics: null });
    // The 10 originals and their 10 mirrored copies get two copies each.
    expect(readDatasetFacts(facts)?.copies).toEqual({ train: 10 + 20 * 2, val: 0, test: 0 });
    const only = augmentStage.facts?.({ stageId: "aug", params: { ...DEFAULT_PARAMS, include_augmented: false, splits: ["val"] }, inputs: { dataset: load }, metrics: null });
    expect(readDatasetFacts(only)?.copies).toEqual({ train: 10, val: 4, test: 0 });
  });
});

function reportContext(outDir: string): StageReportContext {
  return { stageId: "aug", outputs: { dataset: path.join(outDir, "dataset") }, inputs: {}, metrics: {} };
}
