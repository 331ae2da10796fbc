/**
 * Flip test-time augmentation: the map is the mean of the model's map of the image and
 * the mirrored map of the mirrored image. Checked by hand on a model that is not
 * mirror-symmetric (its pixel reads the left neighbour), for equivariance on a tiny
 * random MU-Net, and through the threshold and predict stages: the threshold records
 * the TTA it was swept with, and predict follows it unless told otherwise.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { loadModelFolder } from "../../stages/model/model-folder.js";
import { predictProbabilities } from "../../stages/predict/infer.js";
import { predictParamsSchema, type PredictParams } from "../../stages/predict/predict-params.js";
import { runPredict } from "../../stages/predict/run-predict.js";
import { runThreshold } from "../../stages/predict/run-threshold.js";
import { thresholdParamsSchema, type ThresholdParams } from "../../stages/predict/threshold-params.js";
import {
  TempDirs,
  grey,
  resizedDataset,
  saveLeftNeighbourModel,
  saveTinyMuNet,
  stageContext,
  withDefaults,
  writeSyntheticTensors,
} from "./fixtures.js";

const temp = new TempDirs();
afterAll(() => temp.cleanup());
beforeAll(async () => {
  await tf.setBackend("cpu");
});

const SIZE = 32;

/** count images of SIZE x SIZE RGB bytes from a generator of (image, x, y, channel). */
function images(count: number, value: (n: number, x: number, y: number, c: number) => number): Uint8Array {
  const bytes = new Uint8Array(count * SIZE * SIZE * 3);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) bytes[((n * SIZE + y) * SIZE + x) * 3 + c] = value(n, x, y, c) & 255;
  }
  return bytes;
}

/** Each SIZE x SIZE image (RGB or one-channel maps) mirrored left-right. */
function mirrored<T extends Uint8Array | Float32Array>(data: T, channels: number): T {
  const out = data.slice() as T;
  const row = SIZE * channels;
  for (let start = 0; start < data.length; start += row) {
    for (let x = 0; x < SIZE; x++) for (let c = 0; c < channels; c++) out[start + x * channels + c] = data[start + (SIZE - 1 - x) * channels + c] as number;
  }
  return out;
}

describe("flip TTA in predictProbabilities", () => {
  it("averages the left and the right neighbour for a model that reads the left one", async () => {
    const root = await temp.make();
    const { model } = await loadModelFolder(await saveLeftNeighbourModel(path.join(root, "model"), SIZE));
    try {
      const red = (n: number, x: number, y: number): number => (n * 50 + x * 7 + y * 3) % 256;
      const batch = images(2, (n, x, y, c) => (c === 0 ? red(n, x, y) : 99));
      const before = tf.memory().numTensors;
      const plain = await predictProbabilities(model, batch, 2, SIZE, "unit");
      const flipped = await predictProbabilities(model, batch, 2, SIZE, "unit", "flip");
      expect(tf.memory().numTensors).toBe(before);
      for (const [n, y, x] of [[0, 0, 0], [0, 5, 1], [1, 17, 16], [1, 31, 31], [0, 9, 31]] as const) {
        const at = (n * SIZE + y) * SIZE + x;
        const left = x > 0 ? red(n, x - 1, y) / 255 : 0;
        const right = x < SIZE - 1 ? red(n, x + 1, y) / 255 : 0;
        expect(plain[at]).toBeCloseTo(left, 6);
        expect(flipped[at]).toBeCloseTo((left + right) / 2, 6);
      }
    } finally {
      model.dispose();
    }
  });

  it("is mirror-equivariant on a tiny random MU-Net: the map of a mirrored image is the mirrored map", async () => {
    const root = await temp.make();
    const { model } = await loadModelFolder(await saveTinyMuNet(path.join(root, "model")));
    try {
      const batch = images(3, (n, x, y, c) => (n * 91 + x * x * 5 + y * 11 + c * 60 + x * y) % 256);
      const plain = await predictProbabilities(model, batch, 3, SIZE, "imagenet");
      const ofImage = await predictProbabilities(model, batch, 3, SIZE, "imagenet", "flip");
      const ofMirror = await predictProbabilities(model, mirrored(batch, 3), 3, SIZE, "imagenet", "flip");
      // The random MU-Net is not symmetric itself, so TTA changes its maps...
      expect(Math.max(...plain.map((p, i) => Math.abs(p - (ofImage[i] as number))))).toBeGreaterThan(1e-3);
      // ...and makes them equivariant (up to float rounding).
      const expected = mirrored(ofImage, 1);
      expect(Math.max(...ofMirror.map((p, i) => Math.abs(p - (expected[i] as number))))).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });
});

describe("flip TTA through the threshold and predict stages", () => {
  const thresholdParams = (overrides: Record<string, unknown> = {}): ThresholdParams => withDefaults<ThresholdParams>(thresholdParamsSchema, overrides);
  const predictParams = (overrides: Record<string, unknown> = {}): PredictParams => withDefaults<PredictParams>(predictParamsSchema, overrides);

  it("records the TTA the threshold was chosen with only when asked, and predict follows it unless told otherwise", async () => {
    const root = await temp.make();
    const best = await saveLeftNeighbourModel(path.join(root, "best"), SIZE);
    const red = new Uint8Array(SIZE * SIZE).map((_, p) => (p * 37) % 256);
    const mask = red.map((v) => (v > 128 ? 1 : 0));
    const synthetic = await writeSyntheticTensors(path.join(root, "synthetic"), SIZE, [{ split: "train", red, mask }]);

    const plainDir = path.join(root, "threshold-plain");
    await runThreshold(stageContext(thresholdParams(), { model: best, tensors: synthetic }, plainDir).ctx);
    const plainRecord = JSON.parse(await readFile(path.join(plainDir, "threshold.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(plainRecord)).toEqual(["version", "threshold", "f1", "precision", "recall", "split", "images"]);
    expect(JSON.parse(await readFile(path.join(plainDir, "model", "mu-model.json"), "utf8"))).not.toHaveProperty("tta");

    const flipDir = path.join(root, "threshold-flip");
    const { ctx, logs } = stageContext(thresholdParams({ tta: "flip" }), { model: best, tensors: synthetic }, flipDir);
    await runThreshold(ctx);
    expect(JSON.parse(await readFile(path.join(flipDir, "threshold.json"), "utf8"))).toMatchObject({ tta: "flip", images: 1 });
    expect(JSON.parse(await readFile(path.join(flipDir, "model", "mu-model.json"), "utf8"))).toMatchObject({ tta: "flip" });
    expect(logs.some((line) => line.includes("flip TTA"))).toBe(true);
    // The swept maps differ, so the sweeps do.
    expect(await readFile(path.join(flipDir, "curve.csv"), "utf8")).not.toBe(await readFile(path.join(plainDir, "curve.csv"), "utf8"));

    // Predict with the model the flip threshold wrote: absent tta follows it; explicit tta wins, with a warning when it differs.
    const tensors = await resizedDataset(path.join(root, "dataset"), path.join(root, "resize"), SIZE, [
      { id: "a", split: "test", width: 40, height: 20, imageFile: "img/a.png", maskFile: "gt/a.png" },
    ]);
    const model = path.join(flipDir, "model");
    const predict = async (name: string, overrides: Record<string, unknown>): Promise<{ map: Uint8Array; logs: string[] }> => {
      const outDir = path.join(root, name);
      const run = stageContext(predictParams(overrides), { model, tensors }, outDir);
      await runPredict(run.ctx);
      return { map: (await grey(path.join(outDir, "submission", "Predictions", "a.png"))).data, logs: run.logs };
    };
    const followed = await predict("follow", {});
    const flip = await predict("flip", { tta: "flip" });
    const none = await predict("none", { tta: "none" });
    expect(followed.map).toEqual(flip.map);
    expect(followed.map).not.toEqual(none.map);
    expect(followed.logs).toContain("flip TTA (mean of the image and its mirror) (as the threshold was chosen)");
    expect(flip.logs.some((line) => line.startsWith("warning:"))).toBe(false);
    expect(none.logs).toContain("warning: params.tta none differs from the threshold's (chosen with tta flip); the maps it binarises are not of the kind it was swept on");
    // predictions.json says which maps are flip-averaged; plain maps keep the file as before.
    const recorded = async (name: string): Promise<unknown> => JSON.parse(await readFile(path.join(root, name, "submission", "predictions.json"), "utf8")).tta;
    expect(await recorded("follow")).toBe("flip");
    expect(await recorded("none")).toBeUndefined();

    // A threshold.json input recording no TTA overrides the model's threshold, and its TTA with it.
    const fromFile = path.join(root, "from-file");
    const run = stageContext(predictParams(), { model, tensors, threshold: path.join(plainDir, "threshold.json") }, fromFile);
    await runPredict(run.ctx);
    expect((await grey(path.join(fromFile, "submission", "Predictions", "a.png"))).data).toEqual(none.map);
    expect(run.logs).toContain("no TTA (as the threshold was chosen)");
  });
});
