// One MU-Net training step (forward, Dice loss, gradients of every trainable weight) on the
// wasm backend with the given threads, for test/runtime/wasm-threads.test.ts. Plain JS on
// the compiled modules (vitest's global setup builds dist/), so it runs as its own process:
// a process has one wasm backend, and the test checks that the process exits by itself.
// Usage: node wasm-train-step.mjs <threads> <out.bin>; prints one JSON line and writes the
// gradients, float32, in the order of the JSON's `variables`.
import { writeFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { buildMuNet } from "../../dist/stages/model/mu-net.js";
import { initBackend } from "../../dist/stages/runtime/backend.js";
import { lossFunction } from "../../dist/stages/train/losses.js";

const [threads, out] = [Number(process.argv[2]), process.argv[3]];
const logs = [];
const backend = await initBackend("wasm", { purpose: "train", threads, log: (line) => logs.push(line) });

const size = 64;
const batch = 2;
const model = buildMuNet({ inputSize: size, decoderFilters: [16, 12, 8, 8] }, { seed: 7 });
// Inputs from a formula, not a generator: the same in every process.
const pixels = Float32Array.from({ length: batch * size * size * 3 }, (_, i) => Math.sin(i * 0.37) * Math.cos(i * 0.011));
const x = tf.tensor4d(pixels, [batch, size, size, 3]);
const y = tf.tensor4d(Float32Array.from({ length: batch * size * size }, (_, i) => ((i * 7919) % 5 === 0 ? 1 : 0)), [batch, size, size, 1]);
const loss = lossFunction("dice");
const { value, grads } = tf.variableGrads(() => loss(y, model.apply(x, { training: true })));
const names = Object.keys(grads).sort();
const parts = names.map((name) => grads[name].dataSync());
writeFileSync(out, Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
console.log(
  JSON.stringify({
    threads: backend.threads,
    detail: backend.detail,
    logs,
    loss: value.dataSync()[0],
    variables: names.map((name, i) => ({ name, length: parts[i].length })),
  }),
);
// No dispose, no exit: the process must end on its own with the wasm threads idle.
