import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { buildMuNet } from "../../stages/model/mu-net.js";
import { loadModelFolder, saveModelFolder } from "../../stages/model/model-folder.js";
import { loadInferenceModel } from "../../stages/predict/inference-model.js";
import { TempDirs, metadataFor } from "./fixtures.js";

const dirs = new TempDirs();

beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(() => dirs.cleanup());

/** A tiny MU-Net whose BatchNorm layers hold non-trivial statistics, as a trained one does. */
async function saveTrainedLookingMuNet(dir: string): Promise<string> {
  const model = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] }, { seed: 3 });
  for (const layer of model.layers.filter((l) => l.getClassName() === "BatchNormalization")) {
    const [gamma, beta, mean, variance] = layer.getWeights().map((w) => w.shape[0] as number);
    const values = [
      tf.randomUniform([gamma!], 0.5, 1.5, "float32", 1),
      tf.randomUniform([beta!], -0.2, 0.2, "float32", 2),
      tf.randomUniform([mean!], -0.3, 0.3, "float32", 3),
      tf.randomUniform([variance!], 0.5, 2, "float32", 4),
    ];
    layer.setWeights(values);
    tf.dispose(values);
  }
  try {
    await saveModelFolder(model, dir, metadataFor(32, { inputScaling: "imagenet" }));
  } finally {
    model.dispose();
  }
  return dir;
}

describe("loadInferenceModel", () => {
  it("folds batch norm away and predicts what the saved model predicts", async () => {
    const dir = await saveTrainedLookingMuNet(await dirs.make());
    const saved = await loadModelFolder(dir);
    const inference = await loadInferenceModel(dir);
    const input = tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 5);
    try {
      expect(inference.folded).toBe(true);
      expect(inference.metadata).toEqual(saved.metadata);
      expect(inference.model.layers.filter((l) => l.getClassName() === "BatchNormalization")).toHaveLength(0);
      expect(saved.model.layers.filter((l) => l.getClassName() === "BatchNormalization").length).toBeGreaterThan(30);
      const expected = (saved.model.predict(input) as tf.Tensor).dataSync();
      const actual = (inference.model.predict(input) as tf.Tensor).dataSync();
      let worst = 0;
      expected.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - (actual[i] as number)))));
      expect(worst).toBeLessThan(1e-5);
      expect(new Set(Array.from(expected).map((v) => v.toFixed(2))).size).toBeGreaterThan(10);
    } finally {
      input.dispose();
      saved.model.dispose();
      inference.model.dispose();
    }
  });
});
