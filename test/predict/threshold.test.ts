/**
 * The threshold sweep over pooled 8-bit histograms, and the `threshold` stage end to
 * end: with the red-channel model (probabilities chosen by the test, so the optimum is
 * known) and with a tiny random MU-Net (only consistency can be checked).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { accumulateHistograms, emptyHistograms } from "../../stages/eval/histogram.js";
import { sweepThresholds } from "../../stages/eval/threshold-sweep.js";
import { loadModelFolder } from "../../stages/model/model-folder.js";
import { probabilityLevels } from "../../stages/predict/probability.js";
import { runThreshold } from "../../stages/predict/run-threshold.js";
import { thresholdParamsSchema, type ThresholdParams } from "../../stages/predict/threshold-params.js";
import { readThresholdFile } from "../../stages/predict/threshold-file.js";
import { TempDirs, saveRedChannelModel, saveTinyMuNet, stageContext, withDefaults, writeSyntheticTensors, type SyntheticItem } from "./fixtures.js";

const temp = new TempDirs();
afterAll(() => temp.cleanup());
beforeAll(async () => {
  await tf.setBackend("cpu");
});

const params = (overrides: Record<string, unknown> = {}): ThresholdParams => withDefaults<ThresholdParams>(thresholdParamsSchema, overrides);

describe("threshold sweep over pooled histograms", () => {
  it("finds the hand-computed optimum of synthetic probability maps", () => {
    // Sclera at 0.9, 0.9, 0.6, 0.3 (levels 230, 230, 153, 77); background at 0.1, 0.1,
    // 0.5, 0.7 (levels 26, 26, 128, 179). Cutting between levels 26 and 77 keeps every
    // sclera pixel and 2 background ones: P 4/6, R 1, F1 0.8, the best of all cuts
    // (0.6667 between 77 and 128, 0.75 between 128 and 153, 0.571 above). The lowest grid
    // threshold in (26/255, 77/255] is 0.11.
    const histograms = emptyHistograms();
    const add = (probabilities: number[], truth: number[]): void =>
      accumulateHistograms(Uint8Array.from(truth), probabilityLevels(Float32Array.from(probabilities)), histograms);
    add([0.9, 0.1, 0.6, 0.5], [1, 0, 1, 0]);
    add([0.9, 0.1, 0.3, 0.7], [1, 0, 1, 0]);
    const { best, curve } = sweepThresholds(histograms.positives, histograms.negatives, 0.01);
    expect(best.threshold).toBe(0.11);
    expect(best.f1).toBeCloseTo(0.8, 12);
    expect(best.precision).toBeCloseTo(4 / 6, 12);
    expect(best.recall).toBe(1);
    expect(curve.find((p) => p.threshold === 0.55)?.f1).toBeCloseTo(0.75, 12);
  });
});

/** 32x32: the first 512 pixels are sclera (384 at red 200, 128 at red 90), the rest background (448 at red 30, 64 at red 150). */
function knownCase(): SyntheticItem {
  const red = new Uint8Array(1024);
  const mask = new Uint8Array(1024);
  for (let p = 0; p < 1024; p++) {
    if (p < 512) {
      mask[p] = 1;
      red[p] = p < 384 ? 200 : 90;
    } else {
      red[p] = p < 512 + 448 ? 30 : 150;
    }
  }
  return { split: "train", red, mask };
}

describe("threshold stage", () => {
  it("keeps the best-F1 threshold of the training images and writes it into a model copy", async () => {
    const root = await temp.make();
    const model = await saveRedChannelModel(path.join(root, "best"), 32);
    const known = knownCase();
    const tensors = await writeSyntheticTensors(root, 32, [
      known,
      { ...known },
      // A flipped copy the model gets all wrong, and a val image: neither is pooled.
      { split: "train", red: new Uint8Array(1024).fill(255), mask: new Uint8Array(1024), augmentOf: "train-0" },
      { split: "val", red: new Uint8Array(1024).fill(255), mask: new Uint8Array(1024) },
    ]);
    const outDir = path.join(root, "out");
    const { ctx } = stageContext(params(), { model, tensors }, outDir);
    const outcome = await runThreshold(ctx);

    // Cuts: above 30 -> P 512/576, R 1, F1 1024/1088 = 0.941; above 90 -> F1 0.8; above 150 -> F1 0.857.
    // Best: the lowest grid threshold above 30/255 = 0.1176.
    const record = await readThresholdFile(path.join(outDir, "threshold.json"));
    expect(record).toMatchObject({ version: 1, threshold: 0.12, recall: 1, split: "train", images: 2 });
    expect(record.f1).toBeCloseTo(1024 / 1088, 12);
    expect(record.precision).toBeCloseTo(512 / 576, 12);
    expect(outcome.metrics).toMatchObject({ threshold: 0.12, f1: 0.941176, precision: 0.888889, recall: 1, images: 2 });

    const curve = (await readFile(path.join(outDir, "curve.csv"), "utf8")).trim().split("\n");
    expect(curve[0]).toBe("threshold,precision,recall,f1");
    expect(curve).toHaveLength(102);
    expect(curve).toContain("0.12,0.888889,1,0.941176");
    expect(curve).toContain("0.5,0.857143,0.75,0.8");
    expect(curve).toContain("0.7,1,0.75,0.857143");

    const pr = (await readFile(path.join(outDir, "pr.csv"), "utf8")).trim().split("\n");
    expect(pr[0]).toBe("recall,precision");
    expect(pr.at(-1)).toBe("0,1");
    expect(pr).toContain("1,0.888889");

    const copy = await loadModelFolder(path.join(outDir, "model"));
    copy.model.dispose();
    expect(copy.metadata).toMatchObject({ threshold: 0.12, inputSize: 32, inputScaling: "unit" });
    for (const file of ["model.json", "weights.bin"]) {
      expect(await readFile(path.join(outDir, "model", file))).toEqual(await readFile(path.join(model, file)));
    }
    expect(JSON.parse(await readFile(path.join(model, "mu-model.json"), "utf8"))).toMatchObject({ threshold: null });
  });

  it("pools flipped copies when asked, and sweeps the split it is told", async () => {
    const root = await temp.make();
    const model = await saveRedChannelModel(path.join(root, "best"), 32);
    const known = knownCase();
    const tensors = await writeSyntheticTensors(root, 32, [known, { ...known, split: "val" }, { ...known, augmentOf: "train-0" }]);
    const run = async (overrides: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const outDir = path.join(root, `out-${JSON.stringify(overrides).replace(/\W/g, "")}`);
      await runThreshold(stageContext(params(overrides), { model, tensors }, outDir).ctx);
      return JSON.parse(await readFile(path.join(outDir, "threshold.json"), "utf8")) as Record<string, unknown>;
    };
    expect(await run({ include_augmented: true })).toMatchObject({ images: 2, threshold: 0.12, split: "train" });
    expect(await run({ split: "val" })).toMatchObject({ images: 1, threshold: 0.12, split: "val" });
    await expect(run({ split: "test" })).rejects.toThrow(/the test split of .* has no original images to sweep over \(items: train 2, val 1, test 0\)/);
  });

  it("runs a tiny MU-Net end to end and keeps the best point of its own curve", async () => {
    const root = await temp.make();
    const model = await saveTinyMuNet(path.join(root, "best"));
    const known = knownCase();
    const tensors = await writeSyntheticTensors(root, 32, [known, { ...known, red: known.red.map((v) => 255 - v) }, known]);
    const outDir = path.join(root, "out");
    const before = tf.memory().numTensors;
    const outcome = await runThreshold(stageContext(params({ batch_size: 2, step: 0.05 }), { model, tensors }, outDir).ctx);
    expect(tf.memory().numTensors).toBe(before);

    const record = await readThresholdFile(outDir);
    const rows = (await readFile(path.join(outDir, "curve.csv"), "utf8")).trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
    expect(rows).toHaveLength(21);
    const bestF1 = Math.max(...rows.map((r) => r[3] as number));
    const firstBest = rows.find((r) => r[3] === bestF1);
    expect(record.threshold).toBe(firstBest?.[0]);
    expect(record.images).toBe(3);
    expect(outcome.metrics?.["threshold"]).toBe(record.threshold);
    expect(existsSync(path.join(outDir, "model", "mu-model.json"))).toBe(true);
  });

  it("pools only the items `where` selects, records the subset, and names the values present when none matches", async () => {
    const root = await temp.make();
    const model = await saveRedChannelModel(path.join(root, "best"), 32);
    const known = knownCase();
    // The webcam image is the known case (best 0.12); the render is all wrong at any cut above 0.
    const wrong: SyntheticItem = { split: "train", red: new Uint8Array(1024).fill(255), mask: new Uint8Array(1024) };
    const tensors = await writeSyntheticTensors(root, 32, [
      { ...known, attributes: { kind: "webcam" } },
      { ...wrong, attributes: { kind: "unityeyes" } },
      { ...wrong, attributes: {} },
      { ...wrong, attributes: { kind: "webcam" }, augmentOf: "train-0" },
      { ...known, split: "val", attributes: { kind: "webcam" } },
    ]);
    const run = async (overrides: Record<string, unknown>, name: string): Promise<{ record: Record<string, unknown>; logs: string[]; dir: string }> => {
      const dir = path.join(root, name);
      const { ctx, logs } = stageContext(params(overrides), { model, tensors }, dir);
      await runThreshold(ctx);
      return { record: JSON.parse(await readFile(path.join(dir, "threshold.json"), "utf8")) as Record<string, unknown>, logs, dir };
    };

    const webcam = await run({ where: { kind: "webcam" } }, "webcam");
    expect(webcam.record).toMatchObject({ threshold: 0.12, images: 1, split: "train", where: { kind: ["webcam"] } });
    expect(webcam.logs).toContain("predicting 1 train images with kind webcam (32x32, batches of 8, no TTA)");
    const both = await run({ where: { kind: ["webcam", "unityeyes"] } }, "both");
    expect(both.record).toMatchObject({ images: 2, where: { kind: ["webcam", "unityeyes"] } });
    expect(both.record["f1"]).not.toBe(webcam.record["f1"]);
    expect((await run({ where: { kind: "webcam" }, include_augmented: true }, "augmented")).record).toMatchObject({ images: 2 });

    const { thresholdReport } = await import("../../stages/predict/threshold-report.js");
    const outputs = Object.fromEntries(["threshold.json", "curve.csv", "pr.csv"].map((file) => [file, path.join(webcam.dir, file)]));
    const [section] = await thresholdReport({ outputs } as unknown as Parameters<typeof thresholdReport>[0]);
    expect(section?.title).toBe("Threshold sweep (train split, kind webcam, 1 images)");

    await expect(run({ where: { kind: "webcm" } }, "typo")).rejects.toThrow(
      "threshold: params.where: no original train image has kind webcm (3 original train images; kind there: unityeyes (1), webcam (1), no kind (1)); change params.where (or params.split)",
    );
    await expect(run({ where: { eye: ["L", "R"] } }, "absent")).rejects.toThrow("no original train image has eye L|R (3 original train images; eye there: no eye (3))");
  });
});
