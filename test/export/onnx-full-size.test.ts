/**
 * The full-size MU-Net (224x224, alpha 0.35, 416,209 parameters) with seeded random weights
 * and random batch-norm statistics converts to ONNX, and onnxruntime predicts what TF.js
 * predicts within 1e-4. Conversion time and file sizes are logged for the record.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, expect, it } from "vitest";

import { createOnnxPredictor } from "../../stages/export/onnx/onnx-predictor.js";
import { writeOnnxModel } from "../../stages/export/onnx/write-onnx-model.js";
import { saveModelFolder, WEIGHTS_BIN } from "../../stages/model/model-folder.js";
import { buildMuNet } from "../../stages/model/mu-net.js";
import { initBackend } from "../../stages/runtime/backend.js";
import { tinyMetadata } from "./tiny-model.js";

const SIZE = 224;
let work: string;
let model: tf.LayersModel;

beforeAll(async () => {
  // The wasm backend (XNNPACK) predicts 224x224 images ten times faster than pure-JS cpu.
  await initBackend("wasm", { purpose: "infer", threads: 1 });
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-onnx-224-"));
  model = buildMuNet({}, { seed: 5 });
  // Trained-looking batch-norm statistics, so folding them is put to the test (seeded, as the kernels are).
  let seed = 100;
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const shape = (layer.getWeights()[0] as tf.Tensor).shape;
    const values = [tf.randomUniform(shape, 0.5, 1.5, "float32", seed++), tf.randomUniform(shape, -0.5, 0.5, "float32", seed++), tf.randomUniform(shape, -0.5, 0.5, "float32", seed++), tf.randomUniform(shape, 0.5, 2, "float32", seed++)];
    layer.setWeights(values);
    tf.dispose(values);
  }
  await saveModelFolder(model, path.join(work, "model"), { ...tinyMetadata, inputSize: SIZE, decoderFilters: [64, 48, 32, 16] });
}, 120_000);
afterAll(async () => {
  model.dispose();
  await rm(work, { recursive: true, force: true });
});

it("converts the 224x224 MU-Net, and onnxruntime matches TF.js within 1e-4 for a batch of 1 and of 3", async () => {
  expect(model.countParams()).toBe(416_209);
  const file = path.join(work, "mu_net.onnx");
  const started = performance.now();
  const result = await writeOnnxModel(path.join(work, "model"), file);
  const seconds = (performance.now() - started) / 1000;
  const weightsBytes = (await stat(path.join(work, "model", WEIGHTS_BIN))).size;
  console.log(`224x224 MU-Net: converted in ${seconds.toFixed(1)} s; ${result.bytes} bytes of ONNX (${result.nodes} nodes, ${result.initializers} initializers) vs ${weightsBytes} bytes of weights.bin`);
  expect(result.inputShape).toEqual(["batch", SIZE, SIZE, 3]);
  // The weights are the file: BN folding drops the moving statistics (7,184 values) but adds biases.
  expect(result.bytes).toBeGreaterThan(weightsBytes * 0.9);
  expect(result.bytes).toBeLessThan(weightsBytes * 1.1);

  const predictor = await createOnnxPredictor(file);
  try {
    for (const [count, seed] of [
      [1, 21],
      [3, 22],
    ] as const) {
      const x = tf.randomUniform([count, SIZE, SIZE, 3], -1, 1, "float32", seed);
      const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      const actual = await predictor.predict((await x.data()) as Float32Array, count, SIZE, SIZE);
      x.dispose();
      expect(actual).toHaveLength(expected.length);
      let max = 0;
      let low = Infinity;
      let high = -Infinity;
      for (let i = 0; i < expected.length; i++) {
        const e = expected[i] as number;
        max = Math.max(max, Math.abs((actual[i] as number) - e));
        low = Math.min(low, e);
        high = Math.max(high, e);
      }
      console.log(`batch ${count}: max |onnx - tfjs| = ${max.toExponential(2)}; TF.js outputs span ${low.toFixed(4)}..${high.toFixed(4)}`);
      expect(high - low).toBeGreaterThan(0.01);
      expect(max).toBeLessThan(1e-4);
    }
  } finally {
    await predictor.dispose();
  }
}, 300_000);
