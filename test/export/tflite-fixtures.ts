/**
 * A tiny random MU-Net and tensors it "segments": random RGB images whose truth masks are
 * the model's own TF.js masks at its threshold (the median probability, so masks are half
 * sclera). The TF.js model scores F1 1 on them, and any pixel an export predicts
 * differently lowers the export's F1: a check that can fail.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

import { TensorShardWriter, type TensorItemInfo } from "../../stages/data/tensor-shards.js";
import { saveModelFolder, type ModelMetadata } from "../../stages/model/model-folder.js";
import { predictProbabilities } from "../../stages/predict/infer.js";
import { binarise, probabilityLevels } from "../../stages/predict/probability.js";
import { fixtureItemInfo } from "../predict/fixtures.js";
import { TINY_SIZE, tinyMetadata, tinyMuNet } from "./tiny-model.js";

/** Whether python3 (or MU_PIPE_PYTHON) has TensorFlow with its TFLite converter; null when it does. */
export function pythonTfProblem(): string | null {
  const python = process.env.MU_PIPE_PYTHON ?? "python3";
  const probe = spawnSync(python, ["-c", "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('tensorflow', 'numpy')) else 1)"], {
    stdio: "ignore",
    timeout: 30_000,
  });
  return probe.status === 0 ? null : `${python} cannot import tensorflow and numpy`;
}

export interface SegmentingFixture {
  readonly modelDir: string;
  readonly tensorsDir: string;
  readonly metadata: ModelMetadata;
}

/** Random pixel values from a small LCG, so fixtures are the same on every run. */
function randomBytes(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

export async function writeSegmentingFixture(work: string, counts: { train: number; test: number } = { train: 6, test: 4 }): Promise<SegmentingFixture> {
  const size = TINY_SIZE;
  const model = tinyMuNet();
  try {
    const images = { train: randomBytes(counts.train * size * size * 3, 11), test: randomBytes(counts.test * size * size * 3, 23) };
    const probabilities = {
      train: await predictProbabilities(model, images.train, counts.train, size, tinyMetadata.inputScaling),
      test: await predictProbabilities(model, images.test, counts.test, size, tinyMetadata.inputScaling),
    };
    const levels = probabilityLevels(probabilities.test).sort();
    const threshold = (levels[levels.length >> 1] as number) / 255;
    const metadata: ModelMetadata = { ...tinyMetadata, threshold };
    const modelDir = path.join(work, "model");
    await saveModelFolder(model, modelDir, metadata);

    const tensorsDir = path.join(work, "tensors");
    const writer = await TensorShardWriter.create(tensorsDir, { size, provenance: { kernel: "lanczos3", maskKernel: "linear", maskThreshold: 0.5 } });
    let n = 0;
    for (const split of ["train", "test"] as const) {
      const count = counts[split];
      const shard = writer.startShard(split, count);
      const masks = binarise(probabilityLevels(probabilities[split]), threshold);
      const infos: TensorItemInfo[] = [];
      for (let row = 0; row < count; row++) {
        shard.image(row).set(images[split].subarray(row * size * size * 3, (row + 1) * size * size * 3));
        shard.mask(row).set(masks.subarray(row * size * size, (row + 1) * size * size).map((v) => (v === 0 ? 0 : 1)));
        infos.push(fixtureItemInfo(split, n, size));
        n++;
      }
      await writer.commitShard(shard, infos);
    }
    await writer.finish();
    return { modelDir, tensorsDir, metadata };
  } finally {
    model.dispose();
  }
}
