// Scores a trained mu-pipe model on resized tensors (a `resize` stage's output):
// pooled precision/recall/F1 over all pixels at 0.5 and at the best threshold of a sweep
// (step 0.01), overall and per name prefix (e.g. webcam_ vs unityeyes_ in eyes-dev).
// Flipped copies are left out. A measuring script until the evaluate stage lands.
// Usage: npm run build && node bench/score-model.mjs --model <model folder> --tensors <tensors folder>
//        [--split all|train|val|test] [--backend auto|tensorflow|wasm|cpu] [--batch 8]
import path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { openTensorShards } from "../dist/stages/data/tensor-shards.js";
import { scaleImages } from "../dist/stages/model/input-scaling.js";
import { loadModelFolder } from "../dist/stages/model/model-folder.js";
import { initBackend } from "../dist/stages/runtime/backend.js";

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    tensors: { type: "string" },
    split: { type: "string", default: "all" },
    backend: { type: "string", default: "auto" },
    batch: { type: "string", default: "8" },
  },
});
if (!values.model || !values.tensors) {
  console.error("usage: node bench/score-model.mjs --model <folder> --tensors <folder> [--split all] [--backend auto]");
  process.exit(2);
}
const backend = await initBackend(values.backend, { purpose: "infer" });
const { model, metadata } = await loadModelFolder(path.resolve(values.model));
const shards = await openTensorShards(path.resolve(values.tensors));
const size = shards.manifest.size;
if (size !== metadata.inputSize) throw new Error(`tensors are ${size}px, the model takes ${metadata.inputSize}px`);

const BINS = 101; // thresholds 0.00 .. 1.00
const groups = new Map(); // group -> { pos: Float64Array(BINS), neg: Float64Array(BINS) } histograms of probabilities
const groupOf = (id) => (id.includes("_") ? id.slice(0, id.indexOf("_") + 1) : "other");
const histogram = (name) => {
  if (!groups.has(name)) groups.set(name, { pos: new Float64Array(BINS), neg: new Float64Array(BINS), images: 0 });
  return groups.get(name);
};
const wanted = (item) => !item.augmentOf && (values.split === "all" || item.split === values.split);
const batchSize = Number(values.batch);
const started = Date.now();
let images = 0;

for (const split of ["train", "val", "test"]) {
  for await (const shard of shards.readSplit(split)) {
    const rows = shard.items.map((item, i) => ({ item, i })).filter(({ item }) => wanted(item));
    for (let b = 0; b < rows.length; b += batchSize) {
      const batch = rows.slice(b, b + batchSize);
      const pixels = size * size;
      const imageBytes = new Uint8Array(batch.length * pixels * 3);
      batch.forEach(({ i }, k) => imageBytes.set(shard.images.subarray(i * pixels * 3, (i + 1) * pixels * 3), k * pixels * 3));
      const probs = tf.tidy(() => {
        const x = scaleImages(tf.tensor4d(imageBytes, [batch.length, size, size, 3], "int32"), metadata.inputScaling);
        return model.predict(x);
      });
      const p = await probs.data();
      probs.dispose();
      batch.forEach(({ item, i }, k) => {
        for (const g of [histogram("all"), histogram(groupOf(item.id))]) {
          g.images += 1;
          for (let q = 0; q < pixels; q++) {
            const bin = Math.min(BINS - 1, Math.floor(p[k * pixels + q] * (BINS - 1)));
            if (shard.masks[i * pixels + q]) g.pos[bin] += 1;
            else g.neg[bin] += 1;
          }
        }
      });
      images += batch.length;
    }
  }
}

// At threshold t = bin/100: predicted positive when p >= t, i.e. bins >= t's bin.
const scores = (g, bin) => {
  let tp = 0, fp = 0, fn = 0;
  for (let k = 0; k < BINS; k++) {
    if (k >= bin) { tp += g.pos[k]; fp += g.neg[k]; } else fn += g.pos[k];
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
};
const result = { model: values.model, tensors: values.tensors, split: values.split, backend: backend.name, images, seconds: (Date.now() - started) / 1000, groups: {} };
for (const [name, g] of groups) {
  let best = { bin: 50, ...scores(g, 50) };
  for (let bin = 1; bin < BINS; bin++) {
    const s = scores(g, bin);
    if (s.f1 > best.f1) best = { bin, ...s };
  }
  result.groups[name] = { images: g.images, at_0_5: scores(g, 50), best_threshold: best.bin / 100, at_best: { precision: best.precision, recall: best.recall, f1: best.f1 } };
}
for (const [name, r] of Object.entries(result.groups)) {
  console.log(`${name.padEnd(12)} ${String(r.images).padStart(4)} images  F1@0.5 ${r.at_0_5.f1.toFixed(3)}  best F1 ${r.at_best.f1.toFixed(3)} at ${r.best_threshold.toFixed(2)} (P ${r.at_best.precision.toFixed(3)} R ${r.at_best.recall.toFixed(3)})`);
}
console.log(JSON.stringify(result));
