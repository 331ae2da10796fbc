/**
 * `where` and `sampling` name item attributes; a typo in one used to surface only when
 * its stage started (a bad threshold `where` after hours of fine-tuning). load now
 * publishes the attributes' values per split, flip/resize pass them on, and the run
 * stops right after load, naming the values that are there.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { RunRecord } from "../../pipeline/formats.js";
import { attributeMetrics, datasetFacts, readDatasetFacts } from "../../stages/data/dataset-facts.js";
import { whereProblems } from "../../stages/predict/item-where.js";
import { captureIO } from "../capture-io.js";
import { writeBinaryMask, writeImage } from "../stages/load-fixtures.js";

let dir: string;

/** 8 webcam and 12 unityeyes photos; split by image 0.6/0.2/0.2 with seed 1. */
const config = (weights: string, where: string): string => `experiment: attrs
settings: { seed: 1 }
stages:
  load:
    uses: load
    params:
      source:
        kind: folders
        images: data/images
        masks: data/masks
        name_attributes: "^(?<kind>webcam|unityeyes)_(?<n>\\\\d+)$"
      split: { train: 0.6, val: 0.2, test: 0.2, by: image }
  flip:
    uses: flip-augment
    inputs: { dataset: load.dataset }
  resize:
    uses: resize
    inputs: { dataset: flip.dataset }
    params: { size: 32 }
  finetune:
    uses: finetune
    inputs: { tensors: resize.tensors }
    params:
      model: { alpha: 0.35, input_scaling: imagenet, decoder_filters: [8, 8, 8, 8] }
      encoder: { weights: none }
      epochs: 1
      batch_size: 2
      sampling: { balance_by: kind, weights: ${weights} }
  threshold:
    uses: threshold
    inputs: { model: finetune.best, tensors: resize.tensors }
    params: { split: train, where: ${where} }
`;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "mu-pipe-attribute-preflight-"));
  const names = [...Array.from({ length: 8 }, (_, i) => `webcam_${i}`), ...Array.from({ length: 12 }, (_, i) => `unityeyes_${i}`)];
  for (const [i, name] of names.entries()) {
    await writeImage(path.join(dir, "data/images", `${name}.png`), { salt: i });
    await writeBinaryMask(path.join(dir, "data/masks", `${name}.png`));
  }
  await fs.writeFile(path.join(dir, "typos.yaml"), config("{ webcam: 2, unityeye: 1 }", "{ kind: webcm }"));
  await fs.writeFile(path.join(dir, "fixed.yaml"), config("{ webcam: 2, unityeyes: 1 }", "{ kind: webcam }"));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("attribute names and values are checked right after load", () => {
  it("a misspelt sampling weight and threshold where stop the run before flip, naming the values present", async () => {
    const io = captureIO(dir);
    expect(await main(["run", "typos.yaml"], io)).toBe(2);
    const err = io.stderr();
    const train = /kind there: unityeyes \((\d+)\), webcam \((\d+)\)\)/.exec(err);
    expect(train, err).not.toBeNull();
    const [unity, webcam] = [Number(train?.[1]), Number(train?.[2])];
    expect(unity + webcam).toBe(12); // the train split of 20 images at 0.6
    expect(err).toContain(
      `typos.yaml:28:46 - error: stages.finetune.params.sampling.weights: sampling.weights names "unityeye", which no training item has as its "kind"; the values present: unityeyes (${unity} original items), webcam (${webcam} original items)`,
    );
    expect(err).toContain(
      `typos.yaml:32:36 - error: stages.threshold.params.where: params.where: no original train image has kind webcm (12 original train images; kind there: unityeyes (${unity}), webcam (${webcam}))`,
    );
    expect(err).toContain("  hint: change params.where (or params.split)");
    expect(err).toContain("2 problems found before stage flip started");
    const record = JSON.parse(await fs.readFile(path.join(dir, "runs/latest/run.json"), "utf8")) as RunRecord;
    expect(Object.fromEntries(record.stages.map((s) => [s.id, s.status]))).toEqual({ load: "succeeded", flip: "skipped", resize: "skipped", finetune: "failed", threshold: "failed" });
    expect(record.stages.find((s) => s.id === "finetune")?.startedAt).toBeNull();

    // status says the same from the cached load result, without running anything.
    const status = captureIO(dir);
    await main(["status", "typos.yaml"], status);
    expect(status.stdout() + status.stderr()).toContain(`sampling.weights names "unityeye"`);
    expect(status.stdout() + status.stderr()).toContain("no original train image has kind webcm");
  }, 60_000);

  it("an attribute of more than 12 values publishes no counts, so a where on it is left to the stage", () => {
    const items = Array.from({ length: 13 }, (_, i) => ({ split: "train" as const, attributes: { n: String(i), kind: "webcam" } }));
    const metrics = attributeMetrics(items);
    expect(metrics).toEqual({ attributes: "kind,n", "kind=webcam.train": 13, "kind=webcam.val": 0, "kind=webcam.test": 0 });
    const facts = readDatasetFacts(
      datasetFacts({ stage: "load", originals: { train: 13, val: 0, test: 0 }, copies: { train: 0, val: 0, test: 0 }, subjects: null, splitBy: "image", fractions: null, attributes: readDatasetFacts({ dataset_stage: "load", train: 13, val: 0, test: 0, ...metrics })?.attributes ?? null }),
    );
    expect(facts === null ? "no facts" : whereProblems(facts, { n: "99" }, "train", "threshold")).toEqual([]);
    expect(facts === null ? "no facts" : whereProblems(facts, { n: "99", kind: "webcm" }, "train", "threshold")).toHaveLength(1);
  });

  it("with the values spelt right, nothing is reported", async () => {
    const io = captureIO(dir);
    await main(["status", "fixed.yaml"], io);
    expect(io.stdout() + io.stderr()).not.toMatch(/error|sampling\.weights names|no original train image/);
    expect(io.stdout()).toMatch(/^finetune\s+will run/m);
  });
});
