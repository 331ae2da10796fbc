import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { correctPad, buildMobileNetV2, makeDivisible, projectFilters, stemFilters, type Alpha } from "../../stages/model/mobilenet-v2.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Keras MobileNetV2 (include_top=False) layer names after block_13_expand_relu, as in Keras's HDF5 file. */
const KERAS_LAYERS_AFTER_BLOCK_13_EXPAND = [
  "block_13_pad", "block_13_depthwise", "block_13_depthwise_BN", "block_13_depthwise_relu", "block_13_project",
  "block_13_project_BN", "block_14_expand", "block_14_expand_BN", "block_14_expand_relu", "block_14_depthwise",
  "block_14_depthwise_BN", "block_14_depthwise_relu", "block_14_project", "block_14_project_BN", "block_14_add",
  "block_15_expand", "block_15_expand_BN", "block_15_expand_relu", "block_15_depthwise",
  "block_15_depthwise_BN", "block_15_depthwise_relu", "block_15_project", "block_15_project_BN", "block_15_add",
  "block_16_expand", "block_16_expand_BN", "block_16_expand_relu", "block_16_depthwise",
  "block_16_depthwise_BN", "block_16_depthwise_relu", "block_16_project", "block_16_project_BN", "Conv_1",
  "Conv_1_bn", "out_relu",
];

/** Builds MobileNetV2 on a fresh input and wraps the given layers' outputs in a model. */
function mobileNet(alpha: Alpha, size: number, until: string | undefined, outputs: readonly string[]): tf.LayersModel {
  const input = tf.input({ name: "input_layer", shape: [size, size, 3] });
  const built = buildMobileNetV2(input, { alpha, until });
  return tf.model({ inputs: input, outputs: outputs.map((name) => built.get(name) as tf.SymbolicTensor) });
}

describe("makeDivisible", () => {
  it("rounds to the nearest multiple of 8, at least 8, never more than 10% down", () => {
    expect(makeDivisible(11.2)).toBe(16); // 8 would be 29% below
    expect(makeDivisible(5)).toBe(8);
    expect(makeDivisible(12)).toBe(16); // halves round up
    expect(makeDivisible(18)).toBe(24); // 16 would be 11% below
    expect(makeDivisible(22)).toBe(24);
    expect(makeDivisible(33)).toBe(32);
    expect(makeDivisible(56)).toBe(56);
    expect(makeDivisible(1792)).toBe(1792);
  });

  it("truncates filters * alpha before rounding a block's projection, as Keras does", () => {
    expect(projectFilters(96, 0.35)).toBe(32); // int(33.6) = 33
    expect(projectFilters(24, 0.75)).toBe(24); // int(18) = 18 -> 24
    expect(projectFilters(16, 0.35)).toBe(8);
    expect(stemFilters(0.35)).toBe(16);
    expect(stemFilters(0.75)).toBe(24);
  });
});

describe("correctPad", () => {
  it("pads bottom/right only for even sizes (TensorFlow's same), both sides for odd", () => {
    expect(correctPad(112, 112)).toEqual([[0, 1], [0, 1]]);
    expect(correctPad(7, 8)).toEqual([[1, 1], [0, 1]]);
    expect(correctPad(null, null)).toEqual([[0, 1], [0, 1]]);
  });
});

describe("buildMobileNetV2", () => {
  it("builds Keras's 154-layer network with Keras's parameter totals", () => {
    const expectedParams: Record<number, number> = { 0.35: 410_208, 1.0: 2_257_984 };
    for (const alpha of [0.35, 1.0] as const) {
      const model = mobileNet(alpha, 32, undefined, ["out_relu"]);
      const names = model.layers.map((layer) => layer.name);
      expect(names).toHaveLength(154);
      expect(names.slice(-KERAS_LAYERS_AFTER_BLOCK_13_EXPAND.length)).toEqual(KERAS_LAYERS_AFTER_BLOCK_13_EXPAND);
      expect(model.countParams()).toBe(expectedParams[alpha]);
      expect(model.outputs[0]?.shape).toEqual([null, 1, 1, 1280]);
      model.dispose();
    }
  });

  it("stops at the named layer without creating later weights", () => {
    const before = tf.memory().numTensors;
    const model = mobileNet(0.35, 32, "block_1_expand_relu", ["block_1_expand_relu"]);
    expect(model.layers.at(-1)?.name).toBe("block_1_expand_relu");
    // Conv1 3*3*3*16 + BN 4*16 + depthwise 3*3*16 + BN 4*16 + project 16*8 + BN 4*8 + expand 8*48 + BN 4*48
    expect(model.countParams()).toBe(432 + 64 + 144 + 64 + 128 + 32 + 384 + 192);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects an unknown last layer and frees what it built", () => {
    const before = tf.memory().numTensors;
    const input = tf.input({ shape: [32, 32, 3] });
    expect(() => buildMobileNetV2(input, { alpha: 0.35, until: "block_99_add" })).toThrow('MobileNetV2 has no layer named "block_99_add"');
    expect(tf.memory().numTensors).toBe(before);
  });

  it("pads the stem convolution at the bottom/right only", () => {
    const model = mobileNet(0.35, 32, "Conv1", ["Conv1"]);
    const conv1 = model.getLayer("Conv1");
    conv1.setWeights([tf.ones([3, 3, 3, 16])]);
    const out = tf.tidy(() => model.predict(tf.fill([1, 32, 32, 3], 0.1)) as tf.Tensor4D);
    expect(out.shape).toEqual([1, 16, 16, 16]);
    const pixel = (row: number, col: number): number => out.arraySync()[0]?.[row]?.[col]?.[0] ?? NaN;
    expect(pixel(0, 0)).toBeCloseTo(2.7, 5); // 3x3x3 window inside the image
    expect(pixel(0, 15)).toBeCloseTo(1.8, 5); // one padded column
    expect(pixel(15, 15)).toBeCloseTo(1.2, 5); // padded row and column
    out.dispose();
    model.dispose();
  });

  it("explicit bottom/right padding plus a valid depthwise convolution equals TensorFlow's same", () => {
    const model = mobileNet(0.35, 32, "block_1_depthwise", ["block_1_expand_relu", "block_1_pad", "block_1_depthwise"]);
    const kernel = tf.randomUniform([3, 3, 48, 1], -1, 1, "float32", 7);
    model.getLayer("block_1_depthwise").setWeights([kernel]);
    tf.tidy(() => {
      const [expanded, padded, depthwise] = model.predict(tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 3)) as tf.Tensor4D[];
      if (expanded === undefined || padded === undefined || depthwise === undefined) throw new Error("missing outputs");
      expect(padded.shape).toEqual([2, 17, 17, 48]);
      expect(padded.slice([0, 0, 0, 0], [2, 16, 16, 48]).arraySync()).toEqual(expanded.arraySync());
      expect(padded.slice([0, 16, 0, 0], [2, 1, 17, 48]).abs().max().arraySync()).toBe(0);
      expect(padded.slice([0, 0, 16, 0], [2, 17, 1, 48]).abs().max().arraySync()).toBe(0);
      const same = tf.depthwiseConv2d(expanded, kernel as tf.Tensor4D, 2, "same");
      expect(depthwise.shape).toEqual([2, 8, 8, 48]);
      expect(tf.sub(depthwise, same).abs().max().arraySync()).toBeLessThan(1e-5);
    });
    kernel.dispose();
    model.dispose();
  });
});
