import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";

import { EXPORTABLE_LAYER_CLASSES, kerasModelConfig } from "../../stages/export/keras-model-config.js";
import { buildMuNet } from "../../stages/model/mu-net.js";

function configOf(build: (input: tf.SymbolicTensor) => tf.SymbolicTensor): unknown {
  const input = tf.input({ name: "in", shape: [8, 8, 3] });
  const model = tf.model({ inputs: input, outputs: build(input) });
  try {
    return model.toJSON(null, false);
  } finally {
    model.dispose();
  }
}

describe("kerasModelConfig", () => {
  const model = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] });
  const config = kerasModelConfig(model.toJSON(null, false));
  const layerNames = model.layers.map((l) => l.name);
  model.dispose();
  const layer = (name: string) => config.config.layers.find((l) => l.name === name);

  it("keeps every MU-Net layer, in order, with its name and inputs", () => {
    expect(config.class_name).toBe("Functional");
    expect(config.config.layers.map((l) => l.name)).toEqual(layerNames);
    expect(config.config.input_layers).toEqual([["input_image", 0, 0]]);
    expect(config.config.output_layers).toEqual([["head_sigmoid", 0, 0]]);
    expect(layer("decoder_1_concat")?.inbound_nodes).toEqual([[["decoder_1_upsample", 0, 0, {}], ["block_6_expand_relu", 0, 0, {}]]]);
  });

  it("writes ReLU6 as Keras's ReLU(max_value=6) and the decoder's ReLU unbounded", () => {
    expect(layer("Conv1_relu")?.config).toMatchObject({ max_value: 6, negative_slope: 0, threshold: 0 });
    expect(layer("decoder_1_relu_1")?.config).toMatchObject({ max_value: null });
  });

  it("keeps the stride-2 padding, upsampling and batch-norm settings", () => {
    expect(layer("block_1_pad")?.config).toMatchObject({ padding: [[0, 1], [0, 1]], data_format: "channels_last" });
    expect(layer("block_1_depthwise")?.config).toMatchObject({ strides: [2, 2], padding: "valid", depth_multiplier: 1, use_bias: false });
    expect(layer("decoder_1_upsample")?.config).toMatchObject({ size: [2, 2], interpolation: "nearest" });
    expect(layer("bn_Conv1")?.config).toMatchObject({ momentum: 0.999, epsilon: 0.001, axis: -1 });
  });

  it("refuses a layer class it has no translation for, naming the layer", () => {
    const dense = configOf((x) => tf.layers.dense({ name: "classifier", units: 2 }).apply(x) as tf.SymbolicTensor);
    expect(() => kerasModelConfig(dense)).toThrow(`cannot write a Keras model: layer classifier (Dense) has no Keras translation; exportable classes: ${EXPORTABLE_LAYER_CLASSES.join(", ")}`);
  });

  it("refuses an option it does not translate rather than dropping it", () => {
    const regularised = configOf((x) => tf.layers.conv2d({ name: "conv", filters: 2, kernelSize: 3, kernelRegularizer: "l1l2" }).apply(x) as tf.SymbolicTensor);
    expect(() => kerasModelConfig(regularised)).toThrow(/^cannot write a Keras model: layer conv \(Conv2D\) sets kernel_regularizer \(/);
  });
});
