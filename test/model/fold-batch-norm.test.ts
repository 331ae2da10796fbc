import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { foldBatchNorm } from "../../stages/model/fold-batch-norm.js";
import { HEAD_CONV_LAYER } from "../../stages/model/layer-names.js";
import { buildMuNet } from "../../stages/model/mu-net.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Gives every BatchNormalization layer random gamma, beta, moving mean and variance (so folding has work to do). */
function randomiseBatchNorm(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const [gamma] = layer.getWeights();
    const shape = (gamma as tf.Tensor).shape;
    const values = [
      tf.randomUniform(shape, 0.5, 1.5, "float32", s++),
      tf.randomNormal(shape, 0, 0.5, "float32", s++),
      tf.randomNormal(shape, 0, 0.5, "float32", s++),
      tf.randomUniform(shape, 0.2, 2, "float32", s++),
    ];
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function maxRelError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = tf.max(tf.abs(b)).dataSync()[0] as number;
    return (tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number) / Math.max(scale, 1e-12);
  });
}

describe("foldBatchNorm", () => {
  it("predicts what the model predicts (tiny MU-Net, random BN statistics) with every BN folded away", () => {
    const model = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] });
    randomiseBatchNorm(model, 7);
    const folded = foldBatchNorm(model);
    const bnLayers = (m: tf.LayersModel): number => m.layers.filter((l) => l.getClassName() === "BatchNormalization").length;
    expect(bnLayers(model)).toBe(48);
    expect(bnLayers(folded)).toBe(0);
    expect(folded.layers.length).toBe(model.layers.length - 48);
    expect(folded.outputs[0]?.shape).toEqual(model.outputs[0]?.shape);

    const x = tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 3);
    // Logits, not the sigmoid (which would hide differences in its flat regions).
    const logits = (m: tf.LayersModel): tf.Tensor => tf.model({ inputs: m.inputs, outputs: m.getLayer(HEAD_CONV_LAYER).output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    const [before, after] = [logits(model), logits(folded)];
    expect(maxRelError(after, before)).toBeLessThan(1e-4);
    const [p, q] = [model.predict(x) as tf.Tensor, folded.predict(x) as tf.Tensor];
    expect(maxRelError(q, p)).toBeLessThan(1e-4);
    tf.dispose([x, before, after, p, q]);
    model.dispose();
    folded.dispose();
  });

  it("keeps a BN whose convolution output is also used elsewhere, and layer names for weight mapping", () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const conv = tf.layers.conv2d({ name: "c", filters: 3, kernelSize: 3, padding: "same", useBias: false }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: "bn" }).apply(conv) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: "sum" }).apply([bn, conv]) as tf.SymbolicTensor;
    const dw = tf.layers.depthwiseConv2d({ name: "dw", kernelSize: 3, depthMultiplier: 2, padding: "same", useBias: true }).apply(sum) as tf.SymbolicTensor;
    const out = tf.layers.batchNormalization({ name: "bn2" }).apply(dw) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    randomiseBatchNorm(model, 21);
    const folded = foldBatchNorm(model);
    expect(folded.layers.slice(1).map((l) => l.name)).toEqual(["c", "bn", "sum", "dw"]);
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, "float32", 5);
    const [p, q] = [model.predict(x) as tf.Tensor, folded.predict(x) as tf.Tensor];
    expect(maxRelError(q, p)).toBeLessThan(1e-4);
    tf.dispose([x, p, q]);
    model.dispose();
    folded.dispose();
  });
});
