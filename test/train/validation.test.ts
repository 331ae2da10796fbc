/**
 * The per-epoch validation pass runs on batch-norm-folded weights (the path predict
 * uses): on a tiny MU-Net with non-trivial BatchNorm statistics its loss and scores
 * match the unfolded model's within 1e-5, and it leaves no tensor behind.
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, expect, test } from "vitest";

import { openTensorShards } from "../../stages/data/tensor-shards.js";
import { buildMuNet } from "../../stages/model/mu-net.js";
import { lossFunction, pixelScores } from "../../stages/train/losses.js";
import { SplitData } from "../../stages/train/train-data.js";
import { evaluateSplit } from "../../stages/train/validation.js";
import { TempDirs, writeTensorFixture } from "./fixtures.js";

const temp = new TempDirs();
let val: SplitData;

beforeAll(async () => {
  await tf.setBackend("cpu");
  const dir = await writeTensorFixture(await temp.make(), { size: 32, counts: { train: 1, val: 6 } });
  val = await SplitData.open(await openTensorShards(dir), "val", { seed: 1 });
});

afterAll(() => temp.cleanup());

test("validation on folded weights gives the unfolded model's loss and scores within 1e-5", async () => {
  const model = buildMuNet({ alpha: 0.35, inputSize: 32, decoderFilters: [8, 8, 8, 8] }, { seed: 7 });
  // Moving statistics far from (0, 1) and scales far from 1: folding them must not be a no-op.
  let layer = 0;
  for (const bn of model.layers.filter((l) => l.getClassName() === "BatchNormalization")) {
    const shape = (bn.getWeights()[0] as tf.Tensor).shape;
    const weights = [tf.randomUniform(shape, 0.5, 1.5, "float32", layer), tf.randomNormal(shape, 0, 0.3, "float32", layer + 1), tf.randomNormal(shape, 0, 0.5, "float32", layer + 2), tf.randomUniform(shape, 0.3, 2, "float32", layer + 3)];
    bn.setWeights(weights);
    tf.dispose(weights);
    layer += 4;
  }
  const options = { batchSize: 4, scaling: "imagenet" as const, loss: lossFunction("dice_bce") };
  const before = tf.memory().numTensors;
  const unfolded = await evaluateSplit(model, val, { ...options, fold: false });
  const folded = await evaluateSplit(model, val, options);
  expect(tf.memory().numTensors).toBe(before);
  model.dispose();

  expect(unfolded.folded).toBe(false);
  expect(folded.folded).toBe(true);
  expect(Math.abs(folded.loss - unfolded.loss)).toBeLessThan(1e-5);
  const [a, b] = [pixelScores(folded.tp, folded.fp, folded.fn), pixelScores(unfolded.tp, unfolded.fp, unfolded.fn)];
  expect(Math.abs(a.dice - b.dice)).toBeLessThan(1e-5);
  expect(Math.abs(a.precision - b.precision)).toBeLessThan(1e-5);
  expect(Math.abs(a.recall - b.recall)).toBeLessThan(1e-5);
  // Not a degenerate case: the model predicts some sclera and misses some.
  expect(unfolded.tp).toBeGreaterThan(0);
  expect(unfolded.fp + unfolded.fn).toBeGreaterThan(0);
});
