import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { buildMuNet, encoderLayerNames, kerasBlockIndex } from "../../stages/model/mu-net.js";
import { FreezeSpecError, applyFreeze, encoderBlocks, inferenceModeForFrozenBatchNorm, trainableVariables } from "../../stages/train/freeze.js";

let model: tf.LayersModel;

beforeAll(async () => {
  await tf.setBackend("cpu");
  model = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] });
});

afterAll(() => model.dispose());

const withWeights = (): tf.layers.Layer[] => model.layers.filter((layer) => layer.weights.length > 0);

describe("freeze", () => {
  test("encoder: exactly the encoder layers are frozen", () => {
    const encoder = new Set(encoderLayerNames(model));
    const summary = applyFreeze(model, "encoder");
    expect(summary.frozenLayers).toEqual(withWeights().filter((l) => encoder.has(l.name)).map((l) => l.name));
    expect(model.layers.filter((l) => l.trainable).every((l) => !encoder.has(l.name))).toBe(true);
    expect(summary.trainableParams + summary.frozenParams).toBe(model.countParams());
    expect(trainableVariables(model)).toHaveLength(model.trainableWeights.length);
  });

  test("none: every layer trains; only BatchNorm statistics are not trained", () => {
    const summary = applyFreeze(model, "none");
    expect(summary.frozenLayers).toEqual([]);
    const bnStats = model.nonTrainableWeights.map((w) => w.originalName.split("/").pop());
    expect(new Set(bnStats)).toEqual(new Set(["moving_mean", "moving_variance"]));
    expect(summary.trainableParams + summary.frozenParams).toBe(model.countParams());
  });

  test("below block_6: the stem and blocks 0-5 are frozen, block 6 and up and the decoder train", () => {
    const summary = applyFreeze(model, { below: "block_6" });
    for (const layer of withWeights()) {
      const block = kerasBlockIndex(layer.name);
      const expectFrozen = block !== null && block < 6;
      expect([layer.name, summary.frozenLayers.includes(layer.name)]).toEqual([layer.name, expectFrozen]);
    }
    expect(summary.frozenLayers).toContain("bn_Conv1");
    expect(summary.frozenLayers).toContain("block_5_project_BN");
    expect(summary.frozenLayers).not.toContain("block_6_expand");
  });

  test("an unknown block is refused with the valid ones listed", () => {
    expect(encoderBlocks(model)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const valid = "block_0, block_1, block_2, block_3, block_4, block_5, block_6, block_7, block_8, block_9, block_10, block_11, block_12, block_13";
    expect(() => applyFreeze(model, { below: "block_14" })).toThrow(new FreezeSpecError(`freeze.below: unknown encoder block "block_14"; valid: ${valid}`));
    expect(() => applyFreeze(model, { below: "Conv1" })).toThrow(/unknown encoder block "Conv1"; valid: block_0, block_1/);
  });

  test("frozen BatchNorm layers run in inference mode (Keras semantics); trainable ones update their statistics", () => {
    applyFreeze(model, "encoder");
    const restore = inferenceModeForFrozenBatchNorm(model);
    const stats = (name: string): number[] => Array.from(model.getLayer(name).getWeights()[2]?.dataSync() ?? []);
    const encoderBefore = stats("bn_Conv1");
    const decoderBefore = stats("decoder_1_bn_1");
    tf.tidy(() => {
      model.apply(tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 1), { training: true });
    });
    expect(stats("bn_Conv1")).toEqual(encoderBefore);
    expect(stats("decoder_1_bn_1")).not.toEqual(decoderBefore);

    restore();
    tf.tidy(() => {
      model.apply(tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 2), { training: true });
    });
    expect(stats("bn_Conv1")).not.toEqual(encoderBefore);
  });
});
