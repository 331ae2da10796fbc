/**
 * The ONNX export of a tiny MU-Net (32x32, random weights everywhere, batch-norm statistics
 * too), run by onnxruntime-node, predicts what TF.js predicts; its metadata travels with it;
 * a layer the writer does not know is named in the error.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { saveModelFolder } from "../../stages/model/model-folder.js";
import { quietTensorflow } from "../../stages/runtime/backend.js";
import { OnnxError } from "../../stages/export/onnx/onnx-error.js";
import { createOnnxPredictor } from "../../stages/export/onnx/onnx-predictor.js";
import { decodeModel } from "../../stages/export/onnx/onnx-proto.js";
import { writeOnnxModel } from "../../stages/export/onnx/write-onnx-model.js";
import { predict, saveTinyModel, tinyMetadata, TINY_SIZE } from "./tiny-model.js";

let work: string;
let model: tf.LayersModel;
let modelDir: string;

beforeAll(async () => {
  quietTensorflow();
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-onnx-"));
  modelDir = path.join(work, "model");
  model = await saveTinyModel(modelDir);
});
afterAll(async () => {
  model.dispose();
  await rm(work, { recursive: true, force: true });
});

function randomBatch(count: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([count, TINY_SIZE, TINY_SIZE, 3], -1, 1, "float32", seed) as tf.Tensor4D;
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  expect(a).toHaveLength(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** TF.js and onnxruntime outputs for the same random batch. */
async function bothOutputs(file: string, count: number, seed: number): Promise<{ expected: Float32Array; actual: Float32Array }> {
  const x = randomBatch(count, seed);
  const expected = predict(model, x);
  const predictor = await createOnnxPredictor(file, { intraOpNumThreads: 1 });
  try {
    const actual = await predictor.predict((await x.data()) as Float32Array, count, TINY_SIZE, TINY_SIZE);
    return { expected, actual };
  } finally {
    x.dispose();
    await predictor.dispose();
  }
}

describe("ONNX export of a tiny MU-Net", () => {
  it("predicts what TF.js predicts, within 1e-4, for batches of 1 and 3 (batch norm folded)", async () => {
    const file = path.join(work, "tiny.onnx");
    const tensorsBefore = tf.memory().numTensors;
    const result = await writeOnnxModel(modelDir, file);
    expect(tf.memory().numTensors, "tensors left behind by the conversion").toBe(tensorsBefore);
    expect(result).toMatchObject({ inputName: "input_image", outputName: "head_sigmoid", opset: 13, irVersion: 7, foldedBatchNorm: true });
    expect(result.inputShape).toEqual(["batch", TINY_SIZE, TINY_SIZE, 3]);
    expect(result.outputShape).toEqual(["batch", TINY_SIZE, TINY_SIZE, 1]);
    // Batch norm folded, zero padding merged into the stride-2 depthwise convolutions.
    const ops = new Set(decodeModel(await readFile(file)).graph.node.map((node) => node.op_type));
    expect([...ops].sort()).toEqual(["Add", "Clip", "Concat", "Conv", "Relu", "Resize", "Sigmoid", "Transpose"]);
    for (const [count, seed] of [
      [1, 11],
      [3, 12],
    ] as const) {
      const { expected, actual } = await bothOutputs(file, count, seed);
      expect(actual).toHaveLength(count * TINY_SIZE * TINY_SIZE);
      // Random weights: outputs must spread, or a constant model would pass.
      const sorted = Float32Array.from(expected).sort();
      expect((sorted.at(-1) ?? 0) - (sorted[0] ?? 0)).toBeGreaterThan(0.01);
      expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
    }
  });

  it("matches as well with BatchNormalization nodes (no folding) and at opset 17", async () => {
    const file = path.join(work, "tiny-bn.onnx");
    const result = await writeOnnxModel(modelDir, file, { foldBatchNorm: false, opset: 17 });
    expect(result).toMatchObject({ foldedBatchNorm: false, opset: 17, irVersion: 8 });
    const nodes = decodeModel(await readFile(file)).graph.node.map((node) => node.op_type);
    expect(nodes.filter((op) => op === "BatchNormalization")).toHaveLength(model.layers.filter((layer) => layer.getClassName() === "BatchNormalization").length);
    const { expected, actual } = await bothOutputs(file, 2, 13);
    expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
  });

  it("keeps the threshold, input scaling and size in metadata_props, and a dynamic batch dimension", async () => {
    const file = path.join(work, "meta.onnx");
    await writeOnnxModel(modelDir, file, { sourceRun: "runs/2026-12-03-demo", muPipeVersion: "9.9.9" });
    const decoded = decodeModel(await readFile(file));
    const props = Object.fromEntries(decoded.metadata_props.map(({ key, value }) => [key, value]));
    expect(props).toMatchObject({
      threshold: "0.42",
      input_scaling: "imagenet",
      input_size: String(TINY_SIZE),
      mu_pipe_version: "9.9.9",
      source_run: "runs/2026-12-03-demo",
      created_by: "mu-pipe test",
    });
    expect(JSON.parse(props.mu_model_json ?? "")).toEqual(tinyMetadata);
    expect(decoded.producer_name).toBe("mu-pipe");

    // onnxruntime reads the same file and sees the batch as a free dimension.
    const session = await ort.InferenceSession.create(file);
    try {
      const [input] = session.inputMetadata;
      expect(input).toMatchObject({ name: "input_image", isTensor: true, shape: ["batch", TINY_SIZE, TINY_SIZE, 3] });
      expect(session.outputMetadata[0]).toMatchObject({ name: "head_sigmoid", shape: ["batch", TINY_SIZE, TINY_SIZE, 1] });
    } finally {
      await session.release();
    }
  });

  it("writes 'none' as the threshold of a model no threshold stage has seen", async () => {
    const dir = path.join(work, "no-threshold");
    const m = await saveTinyModel(dir, { ...tinyMetadata, threshold: null });
    m.dispose();
    const result = await writeOnnxModel(dir, path.join(work, "no-threshold.onnx"));
    expect(result.metadata.threshold).toBe("none");
  });
});

describe("ONNX export of layer arrangements MU-Net does not have", () => {
  it("pads with a Pad node where the zero padding feeds something other than a convolution, and still matches TF.js", async () => {
    const input = tf.input({ name: "input_image", shape: [TINY_SIZE, TINY_SIZE, 3] });
    const padded = tf.layers.zeroPadding2d({ name: "pad", padding: [[1, 2], [3, 0]] }).apply(input) as tf.SymbolicTensor;
    const clipped = tf.layers.reLU({ name: "relu6", maxValue: 6 }).apply(padded) as tf.SymbolicTensor;
    const conv = tf.layers.conv2d({ name: "conv", filters: 2, kernelSize: 3, strides: 2, padding: "same", kernelInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 4 }) }).apply(clipped) as tf.SymbolicTensor;
    const odd = tf.model({ inputs: input, outputs: conv });
    const dir = path.join(work, "pad-relu");
    await saveModelFolder(odd, dir, tinyMetadata);
    const file = path.join(work, "pad-relu.onnx");
    const result = await writeOnnxModel(dir, file);
    expect(result.outputShape).toEqual(["batch", 18, 18, 2]);
    expect(decodeModel(await readFile(file)).graph.node.map((node) => node.op_type)).toEqual(["Transpose", "Pad", "Clip", "Conv", "Transpose"]);
    const x = tf.randomUniform([2, TINY_SIZE, TINY_SIZE, 3], -8, 8, "float32", 5) as tf.Tensor4D;
    const expected = predict(odd, x);
    odd.dispose();
    const predictor = await createOnnxPredictor(file);
    try {
      const actual = await predictor.predict((await x.data()) as Float32Array, 2, TINY_SIZE, TINY_SIZE);
      expect(maxAbsDifference(actual, expected)).toBeLessThan(1e-4);
    } finally {
      x.dispose();
      await predictor.dispose();
    }
  });
});

describe("ONNX export errors", () => {
  it("names a layer whose class the writer does not convert", async () => {
    const input = tf.input({ name: "input_image", shape: [TINY_SIZE, TINY_SIZE, 3] });
    const pooled = tf.layers.maxPooling2d({ name: "pool_1", poolSize: 2 }).apply(input) as tf.SymbolicTensor;
    const up = tf.layers.upSampling2d({ name: "up_1", size: [2, 2] }).apply(pooled) as tf.SymbolicTensor;
    const odd = tf.model({ inputs: input, outputs: up });
    const dir = path.join(work, "pooling");
    await saveModelFolder(odd, dir, tinyMetadata);
    odd.dispose();
    const error = await writeOnnxModel(dir, path.join(work, "pooling.onnx")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnnxError);
    expect((error as OnnxError).problem).toMatchObject({ kind: "unsupported-layer", layer: "pool_1", className: "MaxPooling2D" });
    expect((error as OnnxError).message).toMatch(/^cannot write an ONNX model: layer pool_1 \(MaxPooling2D\) is not a layer class the ONNX writer converts \(it converts the classes MU-Net uses: InputLayer, Conv2D, /);
  });

  it("names a known layer with an option it does not convert", async () => {
    const input = tf.input({ name: "input_image", shape: [TINY_SIZE, TINY_SIZE, 3] });
    const up = tf.layers.conv2d({ name: "dilated", filters: 1, kernelSize: 3, padding: "same", dilationRate: 2 }).apply(input) as tf.SymbolicTensor;
    const odd = tf.model({ inputs: input, outputs: up });
    const dir = path.join(work, "dilated");
    await saveModelFolder(odd, dir, tinyMetadata);
    odd.dispose();
    await expect(writeOnnxModel(dir, path.join(work, "dilated.onnx"))).rejects.toThrow("cannot write an ONNX model: layer dilated (Conv2D) has dilationRate [2, 2]; only 1 is converted");
  });

  it("refuses a batch whose size does not fit, saying what it needs", async () => {
    const file = path.join(work, "tiny.onnx");
    await writeOnnxModel(modelDir, file);
    const predictor = await createOnnxPredictor(file);
    try {
      await expect(predictor.predict(new Float32Array(10), 1, TINY_SIZE, TINY_SIZE)).rejects.toThrow(`a batch of 1 images of ${TINY_SIZE}x${TINY_SIZE}x3 needs ${TINY_SIZE * TINY_SIZE * 3} float32 values, got 10`);
    } finally {
      await predictor.dispose();
    }
  });
});
