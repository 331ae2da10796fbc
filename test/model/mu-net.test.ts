import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import {
  ENCODER_OUTPUT_LAYER,
  SKIP_LAYERS,
  buildMuNet,
  encoderLayerNames,
  kerasBlockIndex,
  type Alpha,
  type MuNetArgs,
} from "../../stages/model/mu-net.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Keras MobileNetV2's layers up to block_13_expand_relu, as in Keras's HDF5 file (whose input is `input_layer`). */
const KERAS_ENCODER_LAYERS = [
  "Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise", "expanded_conv_depthwise_BN",
  "expanded_conv_depthwise_relu", "expanded_conv_project", "expanded_conv_project_BN", "block_1_expand",
  "block_1_expand_BN", "block_1_expand_relu", "block_1_pad", "block_1_depthwise", "block_1_depthwise_BN",
  "block_1_depthwise_relu", "block_1_project", "block_1_project_BN", "block_2_expand", "block_2_expand_BN",
  "block_2_expand_relu", "block_2_depthwise", "block_2_depthwise_BN", "block_2_depthwise_relu",
  "block_2_project", "block_2_project_BN", "block_2_add", "block_3_expand", "block_3_expand_BN",
  "block_3_expand_relu", "block_3_pad", "block_3_depthwise", "block_3_depthwise_BN", "block_3_depthwise_relu",
  "block_3_project", "block_3_project_BN", "block_4_expand", "block_4_expand_BN", "block_4_expand_relu",
  "block_4_depthwise", "block_4_depthwise_BN", "block_4_depthwise_relu", "block_4_project",
  "block_4_project_BN", "block_4_add", "block_5_expand", "block_5_expand_BN", "block_5_expand_relu",
  "block_5_depthwise", "block_5_depthwise_BN", "block_5_depthwise_relu", "block_5_project",
  "block_5_project_BN", "block_5_add", "block_6_expand", "block_6_expand_BN", "block_6_expand_relu",
  "block_6_pad", "block_6_depthwise", "block_6_depthwise_BN", "block_6_depthwise_relu", "block_6_project",
  "block_6_project_BN", "block_7_expand", "block_7_expand_BN", "block_7_expand_relu", "block_7_depthwise",
  "block_7_depthwise_BN", "block_7_depthwise_relu", "block_7_project", "block_7_project_BN", "block_7_add",
  "block_8_expand", "block_8_expand_BN", "block_8_expand_relu", "block_8_depthwise", "block_8_depthwise_BN",
  "block_8_depthwise_relu", "block_8_project", "block_8_project_BN", "block_8_add", "block_9_expand",
  "block_9_expand_BN", "block_9_expand_relu", "block_9_depthwise", "block_9_depthwise_BN",
  "block_9_depthwise_relu", "block_9_project", "block_9_project_BN", "block_9_add", "block_10_expand",
  "block_10_expand_BN", "block_10_expand_relu", "block_10_depthwise", "block_10_depthwise_BN",
  "block_10_depthwise_relu", "block_10_project", "block_10_project_BN", "block_11_expand", "block_11_expand_BN",
  "block_11_expand_relu", "block_11_depthwise", "block_11_depthwise_BN", "block_11_depthwise_relu",
  "block_11_project", "block_11_project_BN", "block_11_add", "block_12_expand", "block_12_expand_BN",
  "block_12_expand_relu", "block_12_depthwise", "block_12_depthwise_BN", "block_12_depthwise_relu",
  "block_12_project", "block_12_project_BN", "block_12_add", "block_13_expand", "block_13_expand_BN",
  "block_13_expand_relu",
];

/** Channels of the encoder's feature maps per alpha, from Keras MobileNetV2 (expansion 6 x block input). */
const ENCODER_CHANNELS: Record<Alpha, { block1: number; block3: number; block6: number; block13: number }> = {
  0.35: { block1: 48, block3: 48, block6: 96, block13: 192 },
  0.5: { block1: 48, block3: 96, block6: 96, block13: 288 },
  0.75: { block1: 96, block3: 144, block6: 144, block13: 432 },
  1.0: { block1: 96, block3: 144, block6: 192, block13: 576 },
};

function sizeOf(weights: readonly tf.LayerVariable[]): number {
  return weights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? NaN), 1), 0);
}

function outputShape(model: tf.LayersModel, layer: string): tf.Shape {
  return model.getLayer(layer).outputShape as tf.Shape;
}

/** Runs `body` on a fresh model and disposes it afterwards. */
function withModel<T>(args: MuNetArgs, body: (model: tf.LayersModel) => T): T {
  const model = buildMuNet(args);
  try {
    return body(model);
  } finally {
    model.dispose();
  }
}

describe("buildMuNet parameter counts", () => {
  it("has the original MU-Net's counts at alpha 0.35, whatever the input size", () => {
    for (const inputSize of [32, 64]) {
      withModel({ inputSize }, (model) => {
        const encoder = new Set(encoderLayerNames(model));
        const encoderParams = model.layers.filter((l) => encoder.has(l.name)).reduce((sum, l) => sum + l.countParams(), 0);
        expect(model.countParams()).toBe(416_209);
        expect(sizeOf(model.trainableWeights)).toBe(409_025);
        expect(sizeOf(model.nonTrainableWeights)).toBe(7_184);
        expect(encoderParams).toBe(98_512);
        expect(model.countParams() - encoderParams).toBe(317_697);
      });
    }
  });
});

describe("buildMuNet shapes", () => {
  const filterVariants: readonly (readonly number[])[] = [
    [64, 48, 32, 16],
    [8, 8, 4, 2],
  ];
  for (const alpha of [0.35, 0.5, 0.75, 1.0] as const) {
    for (const inputSize of [32, 64, 96]) {
      for (const decoderFilters of filterVariants) {
        it(`alpha ${alpha}, input ${inputSize}, decoder [${decoderFilters.join(", ")}]`, () => {
          withModel({ alpha, inputSize, decoderFilters }, (model) => {
            const c = ENCODER_CHANNELS[alpha];
            expect(model.inputs[0]?.shape).toEqual([null, inputSize, inputSize, 3]);
            expect(model.outputs[0]?.shape).toEqual([null, inputSize, inputSize, 1]);
            expect(outputShape(model, ENCODER_OUTPUT_LAYER)).toEqual([null, inputSize / 16, inputSize / 16, c.block13]);
            expect(outputShape(model, "block_6_expand_relu")).toEqual([null, inputSize / 8, inputSize / 8, c.block6]);
            expect(outputShape(model, "block_3_expand_relu")).toEqual([null, inputSize / 4, inputSize / 4, c.block3]);
            expect(outputShape(model, "block_1_expand_relu")).toEqual([null, inputSize / 2, inputSize / 2, c.block1]);
            decoderFilters.forEach((filters, i) => {
              const size = inputSize / 2 ** (3 - i);
              expect(outputShape(model, `decoder_${i + 1}_relu_2`)).toEqual([null, size, size, filters]);
            });
          });
        });
      }
    }
  }
  it("builds at the sizes beyond 224 that resize can write: 256, 288 (an odd 9x9 bottom) and 320", () => {
    for (const inputSize of [256, 288, 320]) {
      withModel({ inputSize, decoderFilters: [8, 8, 4, 2] }, (model) => {
        expect(model.outputs[0]?.shape).toEqual([null, inputSize, inputSize, 1]);
        expect(outputShape(model, ENCODER_OUTPUT_LAYER)).toEqual([null, inputSize / 16, inputSize / 16, ENCODER_CHANNELS[0.35].block13]);
      });
    }
  });
});

describe("buildMuNet layer names", () => {
  it("names the encoder exactly as Keras MobileNetV2, ending at block_13_expand_relu", () => {
    withModel({ inputSize: 32 }, (model) => {
      const encoder = encoderLayerNames(model);
      expect(encoder).toEqual(["input_image", ...KERAS_ENCODER_LAYERS]);
      const byName = new Map(model.layers.map((l) => [l.name, l]));
      const weighted = encoder.filter((name) => (byName.get(name)?.weights.length ?? 0) > 0);
      expect(weighted).toHaveLength(80);
      expect(weighted.filter((name) => byName.get(name)?.getClassName() === "BatchNormalization")).toHaveLength(40);
      expect(weighted.slice(0, 3)).toEqual(["Conv1", "bn_Conv1", "expanded_conv_depthwise"]);
      expect(weighted.slice(-2)).toEqual(["block_13_expand", "block_13_expand_BN"]);
    });
  });

  it("names the decoder and head stably, with every non-encoder layer after the encoder", () => {
    withModel({ inputSize: 32 }, (model) => {
      const names = model.layers.map((l) => l.name);
      const decoder = names.slice(KERAS_ENCODER_LAYERS.length + 1);
      const stage = (i: number): string[] => [
        `decoder_${i}_upsample`, `decoder_${i}_concat`,
        `decoder_${i}_conv_1`, `decoder_${i}_bn_1`, `decoder_${i}_relu_1`,
        `decoder_${i}_conv_2`, `decoder_${i}_bn_2`, `decoder_${i}_relu_2`,
      ];
      expect(decoder).toEqual([...stage(1), ...stage(2), ...stage(3), ...stage(4), "head_conv", "head_sigmoid"]);
    });
  });

  it("concatenates [upsampled, skip] with the skips deepest first", () => {
    withModel({ inputSize: 32 }, (model) => {
      expect(SKIP_LAYERS).toEqual(["block_6_expand_relu", "block_3_expand_relu", "block_1_expand_relu", "input_image"]);
      SKIP_LAYERS.forEach((skip, i) => {
        const inbound = model.getLayer(`decoder_${i + 1}_concat`).inboundNodes[0]?.inboundLayers.map((l) => l.name);
        expect(inbound).toEqual([`decoder_${i + 1}_upsample`, skip]);
      });
      expect(model.getLayer("decoder_1_upsample").inboundNodes[0]?.inboundLayers.map((l) => l.name)).toEqual([ENCODER_OUTPUT_LAYER]);
    });
  });

  it("uses Keras MobileNetV2's batch-norm settings in the encoder and Keras defaults in the decoder", () => {
    withModel({ inputSize: 32 }, (model) => {
      const config = (name: string): Record<string, unknown> => model.getLayer(name).getConfig() as Record<string, unknown>;
      expect(config("bn_Conv1")).toMatchObject({ epsilon: 1e-3, momentum: 0.999 });
      expect(config("block_13_expand_BN")).toMatchObject({ epsilon: 1e-3, momentum: 0.999 });
      expect(config("decoder_1_bn_1")).toMatchObject({ epsilon: 1e-3, momentum: 0.99 });
      expect(config("block_6_expand_relu")).toMatchObject({ maxValue: 6 });
      expect(config("decoder_4_relu_2").maxValue ?? null).toBeNull();
      expect(config("block_1_expand")).toMatchObject({ useBias: false });
      expect(config("decoder_1_conv_1")).toMatchObject({ useBias: true, kernelSize: [3, 3], padding: "same" });
      expect(config("decoder_1_upsample")).toMatchObject({ size: [2, 2], interpolation: "nearest" });
    });
  });

  it("survives a round trip through its JSON topology", async () => {
    const model = buildMuNet({ inputSize: 32 });
    const copy = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) });
    expect(copy.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    expect(encoderLayerNames(copy)).toEqual(encoderLayerNames(model));
    expect(copy.countParams()).toBe(416_209);
    copy.dispose();
    model.dispose();
  });

  it("builds the same random weights from the same seed, and other weights from another seed or none", () => {
    const weights = (seed?: number): Float32Array[] => {
      const model = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] }, seed === undefined ? {} : { seed });
      const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
      model.dispose();
      return values;
    };
    const kernels = (values: Float32Array[]): number[] => values.filter((v) => v.some((x) => x !== 0 && x !== 1)).flatMap((v) => Array.from(v.slice(0, 4)));
    const [a, b, c, free] = [weights(7), weights(7), weights(8), weights()];
    expect(kernels(a).length).toBeGreaterThan(100);
    expect(kernels(b)).toEqual(kernels(a));
    expect(kernels(c)).not.toEqual(kernels(a));
    expect(kernels(free)).not.toEqual(kernels(a));
  });

  it("gives Keras block indices for encoder layers and null otherwise", () => {
    expect(kerasBlockIndex("Conv1")).toBe(0);
    expect(kerasBlockIndex("bn_Conv1")).toBe(0);
    expect(kerasBlockIndex("Conv1_relu")).toBe(0);
    expect(kerasBlockIndex("expanded_conv_project_BN")).toBe(0);
    expect(kerasBlockIndex("block_1_pad")).toBe(1);
    expect(kerasBlockIndex("block_13_expand_relu")).toBe(13);
    expect(kerasBlockIndex("input_image")).toBeNull();
    expect(kerasBlockIndex("decoder_1_conv_1")).toBeNull();
    expect(kerasBlockIndex("head_conv")).toBeNull();
  });

  it("refuses a model without the MU-Net encoder", () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor });
    expect(() => encoderLayerNames(model)).toThrow("has no layer named block_13_expand_relu");
    model.dispose();
  });
});

describe("buildMuNet validation", () => {
  it("shows the value it received", () => {
    expect(() => buildMuNet({ inputSize: 100 })).toThrow("inputSize must be a positive multiple of 32, got 100");
    expect(() => buildMuNet({ inputSize: 0 })).toThrow("inputSize must be a positive multiple of 32, got 0");
    expect(() => buildMuNet({ inputSize: 32.5 })).toThrow("got 32.5");
    expect(() => buildMuNet({ alpha: 0.3 as Alpha })).toThrow("alpha must be one of 0.35, 0.5, 0.75, 1, got 0.3");
    expect(() => buildMuNet({ decoderFilters: [64, 48, 32] })).toThrow(
      "decoderFilters must be 4 positive integers (one per decoder stage, deepest first), got [64, 48, 32]",
    );
    expect(() => buildMuNet({ decoderFilters: [64, 48, 0, 16] })).toThrow("got [64, 48, 0, 16]");
  });

  it("builds the defaults: alpha 0.35, 224 pixels, decoder [64, 48, 32, 16]", () => {
    withModel({}, (model) => {
      expect(model.outputs[0]?.shape).toEqual([null, 224, 224, 1]);
      expect(outputShape(model, ENCODER_OUTPUT_LAYER)).toEqual([null, 14, 14, 192]);
      expect(outputShape(model, "decoder_4_relu_2")).toEqual([null, 224, 224, 16]);
    });
  });
});

describe("buildMuNet numerics and memory", () => {
  it("leaks no tensors when built, run and disposed", () => {
    const before = tf.memory().numTensors;
    withModel({ alpha: 0.5, inputSize: 32 }, (model) => {
      tf.tidy(() => {
        model.predict(tf.zeros([1, 32, 32, 3]));
      });
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("outputs the sigmoid of head_conv: zero kernel and bias ln 3 give 0.75 everywhere", () => {
    withModel({ inputSize: 32 }, (model) => {
      const head = model.getLayer("head_conv");
      const [kernel, bias] = head.getWeights();
      expect(kernel?.shape).toEqual([1, 1, 16, 1]);
      expect(bias?.shape).toEqual([1]);
      head.setWeights([tf.zerosLike(kernel as tf.Tensor), tf.fill([1], Math.log(3))]);
      const out = tf.tidy(() => (model.predict(tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 1)) as tf.Tensor).dataSync());
      expect(out).toHaveLength(2 * 32 * 32);
      for (const value of out) expect(value).toBeCloseTo(0.75, 6);
    });
  });

  it("produces probabilities from random weights", () => {
    withModel({ inputSize: 32 }, (model) => {
      const out = tf.tidy(() => (model.predict(tf.randomUniform([1, 32, 32, 3], -1, 1, "float32", 2)) as tf.Tensor).dataSync());
      for (const value of out) expect(value > 0 && value < 1).toBe(true);
    });
  });
});
