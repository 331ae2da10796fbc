import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, test } from "vitest";

import { recomputeBatchNormStatistics, trainingBatchNormLayers } from "../../stages/train/batch-norm-statistics.js";
import { inferenceModeForFrozenBatchNorm } from "../../stages/train/freeze.js";
import type { BatchBytes, SplitData } from "../../stages/train/train-data.js";

const SIZE = 2;
const CHANNELS = 3;

/** A split of `count` 2x2 images whose pixel values are chosen by the test. */
function fakeSplit(images: readonly number[][]): SplitData {
  const split = {
    size: SIZE,
    count: images.length,
    async gather(positions: readonly number[]): Promise<BatchBytes> {
      return {
        count: positions.length,
        images: Uint8Array.from(positions.flatMap((p) => images[p] ?? [])),
        masks: new Uint8Array(positions.length * SIZE * SIZE),
      };
    },
  };
  return split as unknown as SplitData;
}

function image(seed: number): number[] {
  return Array.from({ length: SIZE * SIZE * CHANNELS }, (_, i) => (seed * 37 + i * 11) % 256);
}

/** input -> BN "trains" -> BN "frozen" (trainable false). */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, CHANNELS] });
  const trains = tf.layers.batchNormalization({ name: "trains", momentum: 0.999 }).apply(input) as tf.SymbolicTensor;
  const frozen = tf.layers.batchNormalization({ name: "frozen", momentum: 0.99 }).apply(trains) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: frozen });
  model.getLayer("frozen").trainable = false;
  return model;
}

/** Per-channel mean and biased variance of the unit-scaled pixels of `items`. */
function channelStats(items: readonly number[][]): { mean: number[]; variance: number[] } {
  const values = Array.from({ length: CHANNELS }, (_, c) => items.flatMap((pixels) => pixels.filter((_, i) => i % CHANNELS === c).map((v) => v / 255)));
  const mean = values.map((v) => v.reduce((s, x) => s + x, 0) / v.length);
  const variance = values.map((v, c) => v.reduce((s, x) => s + (x - mean[c]!) ** 2, 0) / v.length);
  return { mean, variance };
}

const weightsOf = (model: tf.LayersModel, layer: string): number[][] => model.getLayer(layer).getWeights().map((w) => Array.from(w.dataSync()));
const signal = new AbortController().signal;
let undo = (): void => {};

beforeAll(async () => {
  await tf.setBackend("cpu");
});

afterEach(() => undo());

describe("recomputing BatchNorm statistics (precise BN)", () => {
  test("sets a training layer's moving statistics to those of the training images, and leaves frozen layers alone", async () => {
    const items = [1, 2, 3, 4, 5, 6].map(image);
    const model = tinyModel();
    undo = inferenceModeForFrozenBatchNorm(model);
    const frozenBefore = weightsOf(model, "frozen");
    const gammaBetaBefore = weightsOf(model, "trains").slice(0, 2);

    const used = await recomputeBatchNormStatistics({ model, data: fakeSplit(items), batches: 1, batchSize: 6, scaling: "unit", seed: 1, signal });

    expect(used).toBe(1);
    const [gamma, beta, movingMean, movingVariance] = weightsOf(model, "trains");
    const expected = channelStats(items);
    movingMean!.forEach((v, c) => expect(v).toBeCloseTo(expected.mean[c]!, 5));
    movingVariance!.forEach((v, c) => expect(v).toBeCloseTo(expected.variance[c]!, 5));
    expect([gamma, beta]).toEqual(gammaBetaBefore);
    expect(weightsOf(model, "frozen")).toEqual(frozenBefore);
    // Keras's slow averages would have moved 0.1% of the way from (0, 1).
    expect(Math.abs(movingMean![0]!)).toBeGreaterThan(0.1);
    model.dispose();
  });

  test("averages several batches and restores each layer's momentum", async () => {
    const items = [1, 2, 3, 4, 5, 6, 7, 8].map(image);
    const model = tinyModel();
    undo = inferenceModeForFrozenBatchNorm(model);

    const used = await recomputeBatchNormStatistics({ model, data: fakeSplit(items), batches: 10, batchSize: 2, scaling: "unit", seed: 1, signal });

    expect(used).toBe(4);
    const movingMean = weightsOf(model, "trains")[2]!;
    const expected = channelStats(items).mean;
    movingMean.forEach((v, c) => expect(v).toBeCloseTo(expected[c]!, 5));
    expect(trainingBatchNormLayers(model).map((layer) => (layer as unknown as { momentum: number }).momentum)).toEqual([0.999]);
    model.dispose();
  });
});
