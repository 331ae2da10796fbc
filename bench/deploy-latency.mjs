// One runtime's inference latency for bench/deploy.mjs, in a process of its own (TF.js
// keeps one backend per process, and native TensorFlow reads its thread counts when it
// loads): --runs predictions of one image after --warmup untimed ones, on one thread,
// the output read back each time. Prints one JSON line: median and best ms per image and
// the runtime's version.
//   tfjs-node: a TF.js model folder on native TensorFlow, TF_NUM_INTRAOP_THREADS and
//              TF_NUM_INTEROP_THREADS = 1.
//   onnx:      an .onnx file on onnxruntime-node, one intra-op and one inter-op thread.
// The input is a fixed pseudo-random image already scaled to [-1, 1] (latency does not
// depend on what the image shows).
// Usage: node bench/deploy-latency.mjs --runtime tfjs-node|onnx --model <folder | .onnx> --size N [--runs 30] [--warmup 5]
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    runtime: { type: "string" },
    model: { type: "string" },
    size: { type: "string" },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
  },
});
const size = Number(values.size);
const runs = Number(values.runs);
const warmup = Number(values.warmup);
if (!["tfjs-node", "onnx"].includes(values.runtime) || values.model === undefined || !(size > 0)) {
  console.error("usage: node bench/deploy-latency.mjs --runtime tfjs-node|onnx --model <folder | .onnx> --size N [--runs 30] [--warmup 5]");
  process.exit(2);
}

/** A fixed image of size x size x 3 in [-1, 1] (a linear congruential sequence, seed 1). */
function fixedInput() {
  const values = new Float32Array(size * size * 3);
  let state = 1;
  for (let i = 0; i < values.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[i] = (state / 2147483648) * 2 - 1;
  }
  return values;
}

/** Times `predictOnce` (one image, output read back): median and best ms. */
async function time(predictOnce) {
  for (let i = 0; i < warmup; i++) await predictOnce();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await predictOnce();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], bestMs: times[0], runs, warmup };
}

async function tfjsNode() {
  process.env.TF_NUM_INTRAOP_THREADS = "1";
  process.env.TF_NUM_INTEROP_THREADS = "1";
  const { initBackend } = await import("../dist/stages/runtime/backend.js");
  const { loadModelFolder } = await import("../dist/stages/model/model-folder.js");
  const tf = await import("@tensorflow/tfjs");
  const backend = await initBackend("tensorflow", { purpose: "infer", threads: 1 });
  const { model } = await loadModelFolder(path.resolve(values.model));
  const input = tf.tensor4d(fixedInput(), [1, size, size, 3]);
  const result = await time(async () => {
    const output = model.predict(input);
    try {
      await output.data();
    } finally {
      output.dispose();
    }
  });
  input.dispose();
  model.dispose();
  return { ...result, runtime: `tfjs-node (${backend.detail}), ${backend.threads} intra-op thread(s)` };
}

async function onnx() {
  const { createOnnxPredictor } = await import("../dist/stages/export/onnx/onnx-predictor.js");
  const ort = await import("onnxruntime-node");
  const predictor = await createOnnxPredictor(path.resolve(values.model), { intraOpNumThreads: 1 });
  const input = fixedInput();
  try {
    const result = await time(() => predictor.predict(input, 1, size, size));
    return { ...result, runtime: `onnxruntime-node ${ort.env.versions.node}, 1 intra-op thread` };
  } finally {
    await predictor.dispose();
  }
}

const result = values.runtime === "tfjs-node" ? await tfjsNode() : await onnx();
console.log(JSON.stringify(result));
