// Training and inference throughput of MU-Net (alpha 0.35, 224x224, batch 8) on one
// backend: images/s for a training step (forward + backward + Nadam, Dice loss) with
// the encoder frozen (stage 1) and with nothing frozen (stage 2), and for inference on
// batch-norm-folded weights (the path predict and per-epoch validation use).
// Random inputs; warm-up steps are not timed.
// --fused off runs training-mode batch norm as tfjs's own small ops on the tensorflow
// backend instead of TensorFlow's FusedBatchNormV3 / FusedBatchNormGradV3.
// --threads N: XNNPACK threads for wasm (default: every core, at most 8), intra-op threads
// for native TensorFlow (default: its own).
// Usage: npm run build && node bench/train-throughput.mjs [--backend auto|tensorflow|wasm|cpu] [--threads N] [--steps 5] [--size 224] [--batch 8] [--fused on|off] [--infer-only]
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { foldBatchNorm } from "../dist/stages/model/fold-batch-norm.js";
import { buildMuNet } from "../dist/stages/model/mu-net.js";
import { initBackend } from "../dist/stages/runtime/backend.js";
import { fusedBatchNormInstalled, uninstallFusedOps } from "../dist/stages/runtime/fused-ops/index.js";
import { applyFreeze, inferenceModeForFrozenBatchNorm, trainableVariables } from "../dist/stages/train/freeze.js";
import { lossFunction } from "../dist/stages/train/losses.js";
import { createOptimizer } from "../dist/stages/train/optimizers.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "auto" },
    threads: { type: "string" },
    steps: { type: "string", default: "5" },
    size: { type: "string", default: "224" },
    batch: { type: "string", default: "8" },
    fused: { type: "string", default: "on" },
    "infer-only": { type: "boolean", default: false },
  },
});
const steps = Number(values.steps);
const size = Number(values.size);
const batch = Number(values.batch);
const inferOnly = values["infer-only"];
const threads = values.threads === undefined ? undefined : Number(values.threads);
const backend = await initBackend(values.backend, { purpose: inferOnly ? "infer" : "train", threads, log: (line) => console.error(line) });
if (values.fused === "off") uninstallFusedOps();
const loss = lossFunction("dice");
const x = tf.randomUniform([batch, size, size, 3], -1, 1);
const y = tf.cast(tf.greater(tf.randomUniform([batch, size, size, 1]), 0.8), "float32");

async function trainRate(freeze) {
  const model = buildMuNet({ inputSize: size });
  applyFreeze(model, freeze);
  const restore = inferenceModeForFrozenBatchNorm(model);
  const variables = trainableVariables(model);
  const { optimizer } = createOptimizer({ name: "nadam", lr: 1e-4, momentum: 0.9 });
  const step = async () => {
    const cost = tf.tidy(() => optimizer.minimize(() => loss(y, model.apply(x, { training: true })), true, variables));
    await cost.data();
    cost.dispose();
  };
  await step(); // warm-up: kernels, memory
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const seconds = (performance.now() - start) / 1000;
  restore();
  model.dispose();
  return (steps * batch) / seconds;
}

let foldMs = null;
async function inferRate() {
  const built = buildMuNet({ inputSize: size });
  const started = performance.now();
  const model = foldBatchNorm(built);
  foldMs = Math.round(performance.now() - started);
  built.dispose();
  const run = async () => {
    const p = tf.tidy(() => model.predict(x));
    await p.data();
    p.dispose();
  };
  await run();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await run();
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return (steps * batch) / seconds;
}

const result = {
  backend: backend.name,
  detail: backend.detail,
  threads: backend.threads,
  size,
  batch,
  steps,
  fused_batch_norm: fusedBatchNormInstalled(),
  train_frozen_encoder_images_per_s: inferOnly ? null : await trainRate("encoder"),
  train_all_images_per_s: inferOnly ? null : await trainRate("none"),
  infer_images_per_s: await inferRate(),
  fold_ms: foldMs,
  peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
};
console.log(`MU-Net ${size}x${size}, batch ${batch}, ${steps} timed steps on ${backend.detail}, ${backend.threads} thread${backend.threads === 1 ? "" : "s"}, fused batch norm ${result.fused_batch_norm ? "on" : "off"}`);
const rate = (value) => (value === null ? "not measured" : `${value.toFixed(2)} images/s`);
console.log(`  train, encoder frozen   ${rate(result.train_frozen_encoder_images_per_s)}`);
console.log(`  train, all layers       ${rate(result.train_all_images_per_s)}`);
console.log(`  inference, BN folded    ${result.infer_images_per_s.toFixed(2)} images/s (folded in ${result.fold_ms} ms)`);
console.log(`  peak RSS                ${result.peak_rss_mib} MiB`);
console.log(JSON.stringify(result));
