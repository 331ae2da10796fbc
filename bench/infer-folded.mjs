// Inference throughput of MU-Net (alpha 0.35) as built and with batch norm folded into
// its convolutions (stages/model/fold-batch-norm.ts), plus the largest difference
// between the two models' outputs. Random weights and BN statistics; warm-up not timed.
// The two models alternate for --rounds rounds of --steps batches (so load from other
// processes hits both alike); the median round is reported.
// Usage: npm run build && node bench/infer-folded.mjs [--backend auto|tensorflow|wasm|cpu] [--steps 5] [--rounds 5] [--size 224] [--batch 8]
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { foldBatchNorm } from "../dist/stages/model/fold-batch-norm.js";
import { buildMuNet } from "../dist/stages/model/mu-net.js";
import { initBackend } from "../dist/stages/runtime/backend.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "auto" },
    steps: { type: "string", default: "5" },
    rounds: { type: "string", default: "5" },
    size: { type: "string", default: "224" },
    batch: { type: "string", default: "8" },
  },
});
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const size = Number(values.size);
const batch = Number(values.batch);
const backend = await initBackend(values.backend, { purpose: "infer" });
const x = tf.randomUniform([batch, size, size, 3], -1, 1);

const model = buildMuNet({ inputSize: size });
for (const layer of model.layers) {
  if (layer.getClassName() !== "BatchNormalization") continue;
  const shape = layer.getWeights()[0].shape;
  layer.setWeights([tf.randomUniform(shape, 0.5, 1.5), tf.randomNormal(shape, 0, 0.5), tf.randomNormal(shape, 0, 0.5), tf.randomUniform(shape, 0.2, 2)]);
}
const started = performance.now();
const folded = foldBatchNorm(model);
const foldMs = performance.now() - started;

async function run(m) {
  const p = tf.tidy(() => m.predict(x));
  await p.data();
  p.dispose();
}

async function rate(m) {
  const start = performance.now();
  for (let i = 0; i < steps; i++) await run(m);
  return (steps * batch) / ((performance.now() - start) / 1000);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await run(model);
await run(folded);
const asBuilt = [];
const foldedRates = [];
for (let r = 0; r < rounds; r++) {
  asBuilt.push(await rate(model));
  foldedRates.push(await rate(folded));
}

const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x), folded.predict(x)))).dataSync()[0]);
const result = {
  backend: backend.name,
  detail: backend.detail,
  size,
  batch,
  steps,
  rounds,
  layers: model.layers.length,
  folded_layers: folded.layers.length,
  fold_ms: Math.round(foldMs),
  max_abs_difference: diff,
  infer_images_per_s: median(asBuilt),
  infer_folded_images_per_s: median(foldedRates),
  rounds_images_per_s: { as_built: asBuilt.map((v) => Number(v.toFixed(2))), folded: foldedRates.map((v) => Number(v.toFixed(2))) },
};
console.log(`MU-Net ${size}x${size}, batch ${batch}, median of ${rounds} rounds of ${steps} batches on ${backend.detail}`);
console.log(`  inference, as built      ${result.infer_images_per_s.toFixed(2)} images/s (${result.layers} layers)`);
console.log(`  inference, BN folded     ${result.infer_folded_images_per_s.toFixed(2)} images/s (${result.folded_layers} layers, folded in ${result.fold_ms} ms)`);
console.log(`  max |difference|        ${diff.toExponential(2)}`);
console.log(JSON.stringify(result));
