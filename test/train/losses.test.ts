import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";

import { binaryCrossEntropy, confusionCounts, diceBceLoss, diceLoss, pixelScores } from "../../stages/train/losses.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

// y = [1, 1, 0, 0], p = [0.8, 0.4, 0.2, 0]: sum(y*p) = 1.2, sum(y) = 2, sum(p) = 1.4.
const y = (): tf.Tensor => tf.tensor4d([1, 1, 0, 0], [1, 2, 2, 1]);
const p = (): tf.Tensor => tf.tensor4d([0.8, 0.4, 0.2, 0], [1, 2, 2, 1]);

describe("losses", () => {
  test("Dice over the batch: 1 - (2*1.2 + s) / (2 + 1.4 + s)", () => {
    const loss = tf.tidy(() => diceLoss(y(), p()).dataSync()[0]);
    expect(loss).toBeCloseTo(1 - 2.4 / 3.4, 6);
  });

  test("Dice pools the whole batch rather than averaging images", () => {
    // Image 1: y = [1, 0], p = [1, 0] (perfect); image 2: y = [1, 1], p = [0, 0] (all missed).
    // Pooled: 1 - 2*1 / (3 + 1) = 0.5; a per-image mean would give 0.5 * (0 + 1) = 0.5 too, so
    // use an unequal pair: image 2 y = [1, 1, 1] -> pooled 1 - 2 / (4 + 1) = 0.6.
    const loss = tf.tidy(() => diceLoss(tf.tensor2d([[1, 0, 0], [1, 1, 1]]), tf.tensor2d([[1, 0, 0], [0, 0, 0]])).dataSync()[0]);
    expect(loss).toBeCloseTo(0.6, 6);
  });

  test("Dice of an empty mask and an empty prediction is 0 (the smoothing term)", () => {
    const loss = tf.tidy(() => diceLoss(tf.zeros([1, 2, 2, 1]), tf.zeros([1, 2, 2, 1])).dataSync()[0]);
    expect(loss).toBeCloseTo(0, 6);
  });

  test("binary cross-entropy is the mean over pixels, with p clipped away from 0 and 1", () => {
    const bce = tf.tidy(() => binaryCrossEntropy(y(), p()).dataSync()[0]);
    const expected = -(Math.log(0.8) + Math.log(0.4) + Math.log(0.8) + Math.log(1 - 1e-7)) / 4;
    expect(bce).toBeCloseTo(expected, 5);
    const dBce = tf.tidy(() => diceBceLoss(y(), p()).dataSync()[0]);
    expect(dBce).toBeCloseTo(1 - 2.4 / 3.4 + expected, 5);
  });

  test("confusion counts at 0.5 and pooled scores", () => {
    const counts = tf.tidy(() => Array.from(confusionCounts(y(), p()).dataSync()));
    expect(counts).toEqual([1, 0, 1]); // tp: 0.8; fn: 0.4 (not above 0.5); no fp
    expect(pixelScores(1, 0, 1)).toEqual({ dice: 2 / 3, precision: 1, recall: 0.5 });
    expect(pixelScores(0, 0, 0)).toEqual({ dice: 1, precision: 0, recall: 0 });
  });

  test("no tensors are left behind", () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      diceBceLoss(y(), p());
      confusionCounts(y(), p());
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
