/**
 * The `predict` stage on tensors made by the real resize stage (so items point at
 * image and mask files of known original sizes) and on a folder of images, with the
 * red-channel model: its probability is the red value / 255, and the fixture images'
 * red rises left to right, so the maps' content can be checked after mapping back.
 */
import { existsSync } from "node:fs";
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openTensorShards } from "../../stages/data/tensor-shards.js";
import { predictParamsSchema, type PredictParams } from "../../stages/predict/predict-params.js";
import { runPredict } from "../../stages/predict/run-predict.js";
import type { PredictionsFile } from "../../stages/predict/submission.js";
import { writePng } from "../stages/resize-fixtures.js";
import { TempDirs, grey, rampImage, resizedDataset, rightHalfMask, saveRedChannelModel, stageContext, withDefaults } from "./fixtures.js";

const temp = new TempDirs();
afterAll(() => temp.cleanup());
beforeAll(async () => {
  await tf.setBackend("cpu");
});

const params = (overrides: Record<string, unknown> = {}): PredictParams => withDefaults<PredictParams>(predictParamsSchema, overrides);

describe("predict stage on tensors", () => {
  let root: string;
  let tensors: string;
  let model: string;

  beforeAll(async () => {
    root = await temp.make();
    tensors = await resizedDataset(path.join(root, "dataset"), path.join(root, "resize"), 32, [
      { id: "a", split: "test", width: 50, height: 30, imageFile: "img/a_photo.png", maskFile: "gt/a.png" },
      { id: "tall", split: "test", width: 20, height: 40, imageFile: "img/tall.png", maskFile: "gt/tall.png" },
      // Two ground truths named x.png: both fall back to their ids.
      { id: "one/x", split: "test", width: 33, height: 17, imageFile: "img/one/x.png", maskFile: "gt/one/x.png" },
      { id: "two/x", split: "test", width: 17, height: 33, imageFile: "img/two/x.png", maskFile: "gt/two/x.png" },
      { id: "flipped", split: "test", width: 50, height: 30, imageFile: "img/a_photo.png", maskFile: "gt/a.png", extra: { transform: { flip: "horizontal" }, augmentOf: "a" } },
      { id: "trainee", split: "train", width: 24, height: 24, imageFile: "img/trainee.png", maskFile: "gt/trainee.png" },
    ]);
    model = await saveRedChannelModel(path.join(root, "model"), 32, 0.5);
  });

  it("records the mask encoding in the tensor manifest (resize v2)", async () => {
    const shards = await openTensorShards(tensors);
    expect(shards.manifest.items.map((i) => i.maskEncoding)).toEqual(shards.manifest.items.map(() => ({ kind: "binary" })));
  });

  it("writes the SSBC layout with ground-truth names at original sizes", async () => {
    const outDir = path.join(root, "out-test");
    const { ctx, logs } = stageContext(params({ overlays: true }), { model, tensors }, outDir);
    const outcome = await runPredict(ctx);

    const submission = path.join(outDir, "submission");
    const expected = ["a.png", "one_x.png", "tall.png", "two_x.png"];
    for (const folder of ["Predictions", "Binarised", "GroundTruth"]) expect((await readdir(path.join(submission, folder))).sort()).toEqual(expected);
    expect((await readdir(path.join(outDir, "overlays"))).sort()).toEqual(["a.jpg", "one_x.jpg", "tall.jpg", "two_x.jpg"]);

    const sizes: Record<string, [number, number]> = { "a.png": [50, 30], "tall.png": [20, 40], "one_x.png": [33, 17], "two_x.png": [17, 33] };
    for (const [name, [width, height]] of Object.entries(sizes)) {
      const probability = await grey(path.join(submission, "Predictions", name));
      const binary = await grey(path.join(submission, "Binarised", name));
      const truth = await grey(path.join(submission, "GroundTruth", name));
      for (const image of [probability, binary, truth]) expect([name, image.width, image.height]).toEqual([name, width, height]);
      expect(new Set(binary.data)).toEqual(new Set([0, 255]));
      // Binarised is exactly the probability map cut at the model's threshold (0.5).
      expect(binary.data).toEqual(probability.data.map((k) => (k / 255 >= 0.5 ? 255 : 0)));
      // The ground truth is the source mask, decoded at full size.
      expect(truth.data).toEqual(rightHalfMask(width, height).map((v) => v * 255));
      // The probability follows the image's red ramp (left dark, right bright), mapped back the right way round.
      const ramp = rampImage(width, height);
      const y = Math.floor(height / 2);
      for (const x of [Math.floor(width / 4), Math.floor(width / 2), Math.floor((3 * width) / 4)]) {
        expect(Math.abs((probability.data[y * width + x] as number) - (ramp.data[(y * width + x) * 3] as number))).toBeLessThanOrEqual(12);
      }
    }
    const overlay = await sharp(path.join(outDir, "overlays", "a.jpg")).metadata();
    expect([overlay.format, overlay.width, overlay.height]).toEqual(["jpeg", 50, 30]);

    const record = JSON.parse(await readFile(path.join(submission, "predictions.json"), "utf8")) as PredictionsFile;
    expect(record.version).toBe(1);
    expect(record.threshold).toBe(0.5);
    expect(record.items).toEqual([
      { id: "a", name: "a.png", split: "test", subject: "s-a", attributes: { eye: "L", source: "fixture" } },
      { id: "tall", name: "tall.png", split: "test", subject: "s-tall", attributes: { eye: "L", source: "fixture" } },
      { id: "one/x", name: "one_x.png", split: "test", subject: "s-one/x", attributes: { eye: "L", source: "fixture" } },
      { id: "two/x", name: "two_x.png", split: "test", subject: "s-two/x", attributes: { eye: "L", source: "fixture" } },
    ]);
    expect(outcome.metrics).toMatchObject({ images: 4, ground_truth: 4, threshold: 0.5 });
    expect(outcome.metrics?.["images_per_second"]).toBeGreaterThan(0);
    expect(logs).toContain("threshold 0.5 (from the model's metadata)");
  });

  it("takes params.threshold over the threshold input over the model's, and writes no overlays unless asked", async () => {
    const file = path.join(root, "threshold.json");
    await writeFile(file, JSON.stringify({ version: 1, threshold: 0.25, f1: 0.9, precision: 0.9, recall: 0.9, split: "train", images: 1 }));
    const fromFile = path.join(root, "out-file");
    await runPredict(stageContext(params({ split: "train" }), { model, tensors, threshold: file }, fromFile).ctx);
    const given = path.join(root, "out-given");
    await runPredict(stageContext(params({ split: "train", threshold: 0.75 }), { model, tensors, threshold: file }, given).ctx);
    const thresholdOf = async (dir: string): Promise<number> => (JSON.parse(await readFile(path.join(dir, "submission", "predictions.json"), "utf8")) as PredictionsFile).threshold;
    expect(await thresholdOf(fromFile)).toBe(0.25);
    expect(await thresholdOf(given)).toBe(0.75);
    expect(await readdir(path.join(given, "overlays"))).toEqual([]);
    expect(await readdir(path.join(given, "submission", "Predictions"))).toEqual(["trainee.png"]);
  });
});

describe("predict stage on a folder of images", () => {
  it("predicts every image at its original size, without ground truth", async () => {
    const root = await temp.make();
    const model = await saveRedChannelModel(path.join(root, "model"), 32);
    await writePng(path.join(root, "photos", "p1.png"), rampImage(50, 30));
    await writePng(path.join(root, "photos", "p2.png"), rampImage(31, 45));
    await writeFile(path.join(root, "photos", "notes.txt"), "not an image");
    const outDir = path.join(root, "out");
    const { ctx, logs } = stageContext(params({ images: "photos", batch_size: 1 }), { model }, outDir, root);
    const tensorsBefore = tf.memory().numTensors;
    const outcome = await runPredict(ctx);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const submission = path.join(outDir, "submission");
    expect((await readdir(path.join(submission, "Predictions"))).sort()).toEqual(["p1.png", "p2.png"]);
    expect(existsSync(path.join(submission, "GroundTruth"))).toBe(false);
    const p2 = await grey(path.join(submission, "Binarised", "p2.png"));
    expect([p2.width, p2.height]).toEqual([31, 45]);
    const record = JSON.parse(await readFile(path.join(submission, "predictions.json"), "utf8")) as PredictionsFile;
    expect(record).toEqual({
      version: 1,
      threshold: 0.5,
      items: [
        { id: "p1.png", name: "p1.png", split: null, subject: null, attributes: {} },
        { id: "p2.png", name: "p2.png", split: null, subject: null, attributes: {} },
      ],
    });
    expect(outcome.metrics).toMatchObject({ images: 2, ground_truth: 0, threshold: 0.5 });
    expect(logs.some((line) => line.startsWith("threshold 0.5: the model has none"))).toBe(true);
    expect(existsSync(path.join(outDir, "overlays"))).toBe(true);
  });

  it("fails naming an unreadable image, and says when there is nothing to predict", async () => {
    const root = await temp.make();
    const model = await saveRedChannelModel(path.join(root, "model"), 32);
    await writePng(path.join(root, "photos", "good.png"), rampImage(20, 20));
    await writeFile(path.join(root, "photos", "broken.jpg"), Buffer.from("definitely not a jpeg"));
    await expect(runPredict(stageContext(params({ images: "photos" }), { model }, path.join(root, "out"), root).ctx)).rejects.toThrow(
      `predict: 1 input file problem:\n  ${path.join(root, "photos", "broken.jpg")}: cannot read image: not a readable image`,
    );
    await expect(runPredict(stageContext(params(), { model }, path.join(root, "out2")).ctx)).rejects.toThrow(
      "predict: nothing to predict; connect the `tensors` input (a resize stage's tensors) or set params.images to a folder of images",
    );
  });
});
