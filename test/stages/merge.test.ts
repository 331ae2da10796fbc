/**
 * The merge stage on two tiny datasets: a folders-like one whose items are the user's
 * files (relative to the experiment folder) and a synthetic-like one whose images live
 * inside its artifact; both name their items 0001..0003.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { Ajv } from "ajv";
import { afterEach, describe, expect, it } from "vitest";

import type { Facts } from "../../pipeline/stage.js";
import type { DatasetItem, DatasetManifest, Split } from "../../stages/data/dataset-manifest.js";
import { resolveFileRef } from "../../stages/data/dataset-manifest.js";
import { readDatasetManifest } from "../../stages/data/dataset-manifest-io.js";
import { attributeMetrics, datasetFacts, readDatasetFacts } from "../../stages/data/dataset-facts.js";
import { mergeManifests, mergeStage, type MergeParams } from "../../stages/data/merge.js";
import { mergeParamsSchema } from "../../stages/data/merge-params.js";
import { resizeStage, type ResizeParams } from "../../stages/data/resize.js";
import { SOURCES_FOLDER, openTensorShards } from "../../stages/data/tensor-shards.js";
import { TempDirs, blobMask, context, item, patternPixels, runStage, writeDataset, writeMaskPng, writePng } from "./resize-fixtures.js";

const temp = new TempDirs();
afterEach(() => temp.cleanup());

const params: MergeParams = { attributes: { kind: "synthetic" }, prefix: "syn_" };

/** The experiment folder, holding the user's photos under data/, and a dataset of them (train, train, val). */
async function realDataset(): Promise<{ experimentDir: string; dir: string }> {
  const experimentDir = await temp.make();
  const dir = path.join(experimentDir, "store", "real");
  const items: DatasetItem[] = [];
  for (const [id, split] of [["0001", "train"], ["0002", "train"], ["0003", "val"]] as const) {
    const image = { path: `data/images/${id}.png`, base: "experiment" as const, sha256: "0", width: 32, height: 32 };
    const mask = { path: `data/masks/${id}.png`, base: "experiment" as const, sha256: "0", width: 32, height: 32 };
    await writePng(path.join(experimentDir, image.path), patternPixels(32, 32, 3));
    await writeMaskPng(path.join(experimentDir, mask.path), 32, 32, blobMask(32, 32));
    items.push(item(id, split, "", "", { image, mask, subject: null, attributes: { kind: "webcam", source: "folders" } }));
  }
  await writeDataset(dir, items);
  return { experimentDir, dir };
}

/** A synthetic-like dataset whose images are inside it (train, val, test). */
async function syntheticDataset(): Promise<string> {
  const dir = await temp.make();
  const items = [
    item("0001", "train", "images/0001.png", "masks/0001.png", { subject: null, attributes: { view: "closeup", source: "synthetic" } }),
    item("0002", "val", "images/0002.png", "masks/0002.png", { subject: "p7", attributes: { view: "closeup", source: "synthetic" } }),
    item("0003", "test", "images/0003.png", "masks/0003.png", { subject: null, attributes: { view: "closeup", source: "synthetic" } }),
  ];
  for (const it of items) {
    await writePng(path.join(dir, it.image.path), patternPixels(48, 36, 3));
    await writeMaskPng(path.join(dir, it.mask.path), 48, 36, blobMask(48, 36));
  }
  await writeDataset(dir, items);
  return dir;
}

async function merge(dataset: string, add: string, p: MergeParams = params) {
  const out = await temp.make();
  const outcome = await runStage(mergeStage, context(p, { dataset, add }, out));
  const outputDir = path.join(out, "dataset");
  return { outputDir, outcome, manifest: await readDatasetManifest(outputDir) };
}

describe("merge", () => {
  it("lists both inputs' items, each in its own split, add's prefixed and with the attributes set", async () => {
    const real = await realDataset();
    const synthetic = await syntheticDataset();
    const { manifest, outcome } = await merge(real.dir, synthetic);

    expect(manifest.items.map((i) => [i.id, i.split])).toEqual([
      ["0001", "train"], ["0002", "train"], ["0003", "val"],
      ["syn_0001", "train"], ["syn_0002", "val"], ["syn_0003", "test"],
    ]);
    const original = JSON.parse(await readFile(path.join(real.dir, "manifest.json"), "utf8")) as DatasetManifest;
    expect(manifest.items.slice(0, 3)).toEqual(original.items);
    expect(manifest.items.find((i) => i.id === "syn_0002")).toMatchObject({
      attributes: { view: "closeup", source: "synthetic", kind: "synthetic" },
      subject: "syn_p7",
      image: { path: "syn_images/0002.png" },
      mask: { path: "syn_masks/0002.png" },
    });
    expect(outcome.metrics).toEqual({ items_before: 3, items_added: 3, items_after: 6 });
  });

  it("links add's artifact files under their prefixed paths and leaves the user's files where they are", async () => {
    const real = await realDataset();
    const synthetic = await syntheticDataset();
    const { manifest, outputDir } = await merge(real.dir, synthetic);

    expect((await readdir(outputDir)).sort()).toEqual(["manifest.json", "syn_images", "syn_masks"]);
    for (const it of manifest.items.filter((i) => i.id.startsWith("syn_"))) {
      const file = resolveFileRef(it.image, outputDir, real.experimentDir);
      expect((await stat(file)).ino).toBe((await stat(path.join(synthetic, it.image.path.slice("syn_".length)))).ino);
      expect((await readFile(file)).subarray(1, 4).toString()).toBe("PNG");
    }
    expect(manifest.items[0]?.image).toMatchObject({ path: "data/images/0001.png", base: "experiment" });
  });

  it("keeps only the splits of add that params.splits names", async () => {
    const real = await realDataset();
    const { manifest, outcome } = await merge(real.dir, await syntheticDataset(), { ...params, splits: ["train"] });
    expect(manifest.items.map((i) => i.id)).toEqual(["0001", "0002", "0003", "syn_0001"]);
    expect(outcome.metrics).toEqual({ items_before: 3, items_added: 1, items_after: 4 });
  });

  it("refuses ids or artifact files that collide after prefixing, naming them", async () => {
    const synthetic = JSON.parse(await readFile(path.join(await syntheticDataset(), "manifest.json"), "utf8")) as DatasetManifest;
    expect(() => mergeManifests(synthetic, synthetic, { attributes: {}, prefix: "" })).toThrow('merge: item id "0001" is in both inputs');
    const renamed = { ...synthetic, items: synthetic.items.map((i) => ({ ...i, id: `x${i.id}` })) };
    expect(() => mergeManifests(synthetic, renamed, { attributes: {}, prefix: "" })).toThrow("merge: both input artifacts hold a file images/0001.png");
  });

  it("resize reads the merged manifest: the user's photos and the linked synthetic images, attributes kept", async () => {
    const real = await realDataset();
    const { outputDir } = await merge(real.dir, await syntheticDataset());
    const tensorsOut = await temp.make();
    const resizeParams: ResizeParams = { size: 32, kernel: "lanczos3", mask_threshold: 0.5 };
    const run = context(resizeParams, { dataset: outputDir }, tensorsOut);
    await runStage(resizeStage, { ...run, ctx: { ...run.ctx, baseDir: real.experimentDir } });

    const shards = await openTensorShards(path.join(tensorsOut, "tensors"));
    expect(shards.manifest.splits.train.count).toBe(3);
    expect(shards.manifest.splits.val.count).toBe(2);
    expect(shards.manifest.splits.test.count).toBe(1);
    const added = await shards.readItem("syn_0001");
    expect(added.item.attributes).toEqual({ view: "closeup", source: "synthetic", kind: "synthetic" });
    expect(added.mask.some((v) => v === 1)).toBe(true);
    expect((await shards.readItem("0001")).image).toEqual(patternPixels(32, 32, 3).data);
    await stat(path.join(tensorsOut, "tensors", SOURCES_FOLDER, "syn_images", "0001.png"));
  });

  it("facts: add's split counts join dataset's (only the kept splits) once both are known", () => {
    const facts = (train: number, val: number, test: number, stage: string) =>
      datasetFacts({ stage, originals: { train, val, test }, copies: { train: 0, val: 0, test: 0 }, subjects: null, splitBy: "image", fractions: { train: 0.8, val: 0.1, test: 0.1 }, attributes: null });
    const inputs = { dataset: facts(80, 10, 10, "load"), add: facts(180, 20, 0, "closeups") };
    const merged = mergeStage.facts?.({ stageId: "mixed", params: { ...params }, inputs, metrics: null });
    expect(merged).toMatchObject({ dataset_stage: "load", train: 260, val: 30, test: 10 });
    expect(mergeStage.facts?.({ stageId: "mixed", params: { ...params, splits: ["train"] }, inputs, metrics: null })).toMatchObject({ train: 260, val: 10 });
    expect(mergeStage.facts?.({ stageId: "mixed", params: { ...params }, inputs: { dataset: inputs.dataset, add: {} }, metrics: null })).toEqual({});
  });

  it("facts: attribute counts of both, add's items with params.attributes set; unknown when either side's are", () => {
    const load = attributeMetrics([
      ...Array.from({ length: 3 }, () => ({ split: "train" as const, attributes: { kind: "webcam" } })),
      ...Array.from({ length: 5 }, () => ({ split: "train" as const, attributes: { kind: "unityeyes" } })),
      { split: "test" as const, attributes: { kind: "webcam" } },
    ]);
    const closeups = attributeMetrics([
      { split: "train" as const, attributes: { view: "closeup", kind: "render" } },
      { split: "train" as const, attributes: { view: "closeup", kind: "render" } },
      { split: "val" as const, attributes: { view: "closeup", kind: "render" } },
    ]);
    const withCounts = (counts: Record<Split, number>, stage: string, attributes: Facts) => ({
      ...datasetFacts({ stage, originals: counts, copies: { train: 0, val: 0, test: 0 }, subjects: null, splitBy: "image", fractions: null, attributes: null }),
      ...attributes,
    });
    const inputs = { dataset: withCounts({ train: 8, val: 0, test: 1 }, "load", load), add: withCounts({ train: 2, val: 1, test: 0 }, "closeups", closeups) };
    const merged = readDatasetFacts(mergeStage.facts?.({ stageId: "mixed", params: { ...params, attributes: { kind: "synthetic" }, splits: ["train"] }, inputs, metrics: null }));
    expect(merged?.attributes).toEqual({
      names: ["kind", "view"],
      counts: {
        kind: { synthetic: { train: 2, val: 0, test: 0 }, unityeyes: { train: 5, val: 0, test: 0 }, webcam: { train: 3, val: 0, test: 1 } },
        view: { closeup: { train: 2, val: 0, test: 0 } },
      },
    });
    const unknown = { ...inputs, add: withCounts({ train: 2, val: 1, test: 0 }, "closeups", {}) };
    expect(readDatasetFacts(mergeStage.facts?.({ stageId: "mixed", params: { ...params }, inputs: unknown, metrics: null }))?.attributes).toBeNull();
  });
});

describe("merge params", () => {
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(mergeParamsSchema);

  it("default to no attributes, prefix add_ and every split", () => {
    const filled: Record<string, unknown> = {};
    expect(validate(filled)).toBe(true);
    expect(filled).toEqual({ attributes: {}, prefix: "add_" });
  });

  it("refuse a prefix that would leave the artifact folder or make a folder, and attributes that are not strings", () => {
    expect(validate({ prefix: "../x" })).toBe(false);
    expect(validate({ prefix: "syn/" })).toBe(false);
    expect(validate({ attributes: { kind: 3 } })).toBe(false);
    expect(validate({ prefix: "syn_", attributes: { kind: "synthetic" }, splits: ["train", "val"] })).toBe(true);
  });
});
