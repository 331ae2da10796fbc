// Inference latency of MU-Net (alpha 0.35) exported to ONNX and run by onnxruntime-node on
// the CPU: builds a seeded random model, writes it as a model folder, converts it with
// writeOnnxModel (timed), then times --runs predictions of --batch images after --warmup
// untimed ones, with onnxruntime's intra-op pool at --threads. Reports ms per image
// (median and best run) and the file sizes.
// Usage: npm run build && node bench/onnx-latency.mjs [--size 224] [--batch 1] [--threads 1] [--runs 30] [--warmup 5]
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { createOnnxPredictor } from "../dist/stages/export/onnx/onnx-predictor.js";
import { writeOnnxModel } from "../dist/stages/export/onnx/write-onnx-model.js";
import { saveModelFolder } from "../dist/stages/model/model-folder.js";
import { buildMuNet } from "../dist/stages/model/mu-net.js";
import { quietTensorflow } from "../dist/stages/runtime/backend.js";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "224" },
    batch: { type: "string", default: "1" },
    threads: { type: "string", default: "1" },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
const threads = Number(values.threads);
const runs = Number(values.runs);
const warmup = Number(values.warmup);

quietTensorflow();
await tf.setBackend("cpu");
const work = await mkdtemp(path.join(os.tmpdir(), "mu-onnx-latency-"));
try {
  const model = buildMuNet({ inputSize: size }, { seed: 1 });
  const modelDir = path.join(work, "model");
  await saveModelFolder(model, modelDir, {
    version: 1,
    format: "mu-pipe-model",
    alpha: 0.35,
    inputSize: size,
    decoderFilters: [64, 48, 32, 16],
    inputScaling: "imagenet",
    threshold: 0.5,
    createdBy: "bench/onnx-latency.mjs",
  });
  model.dispose();

  const file = path.join(work, "mu_net.onnx");
  const convertStart = performance.now();
  const result = await writeOnnxModel(modelDir, file);
  const convertMs = performance.now() - convertStart;
  const weightsBytes = (await stat(path.join(modelDir, "weights.bin"))).size;

  const predictor = await createOnnxPredictor(file, { intraOpNumThreads: threads });
  const input = new Float32Array(batch * size * size * 3).map(() => Math.random() * 2 - 1);
  for (let i = 0; i < warmup; i++) await predictor.predict(input, batch, size, size);
  const perImage = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await predictor.predict(input, batch, size, size);
    perImage.push((performance.now() - start) / batch);
  }
  await predictor.dispose();
  perImage.sort((a, b) => a - b);
  const median = perImage[Math.floor(perImage.length / 2)];

  console.log(`onnxruntime-node ${(await import("onnxruntime-node")).env.versions.node}, ${size}x${size}, batch ${batch}, ${threads} intra-op thread(s), ${runs} runs after ${warmup} warm-up`);
  console.log(`conversion      ${convertMs.toFixed(0)} ms (${result.nodes} nodes, opset ${result.opset})`);
  console.log(`file sizes      ${result.bytes} bytes .onnx, ${weightsBytes} bytes weights.bin`);
  console.log(`ms per image    median ${median.toFixed(1)}, best ${perImage[0].toFixed(1)}, worst ${perImage.at(-1).toFixed(1)}`);
  console.log(`images/s        ${(1000 / median).toFixed(1)} (median)`);
} finally {
  await rm(work, { recursive: true, force: true });
}
