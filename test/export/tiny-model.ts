/** A tiny MU-Net with every weight random (batch-norm statistics too), saved as a model folder. */
import * as tf from "@tensorflow/tfjs";

import { saveModelFolder, type ModelMetadata } from "../../stages/model/model-folder.js";
import { buildMuNet } from "../../stages/model/mu-net.js";

export const TINY_SIZE = 32;

export const tinyMetadata: ModelMetadata = {
  version: 1,
  format: "mu-pipe-model",
  alpha: 0.35,
  inputSize: TINY_SIZE,
  decoderFilters: [8, 8, 8, 8],
  inputScaling: "imagenet",
  threshold: 0.42,
  createdBy: "mu-pipe test",
};

/**
 * Encoder batch-norm scales in [-GAMMA, GAMMA]: large enough that ReLU6 clips, so a lost
 * `max_value` shows. Larger ones amplify float rounding past 1e-4 over the 13 encoder blocks.
 */
const GAMMA = 3;

/**
 * Random weights throughout, so that a mistake in any layer's export shows: kernels and
 * biases in [-0.5, 0.5], batch-norm variances in [0.5, 1.5], encoder scales as GAMMA says.
 */
export function tinyMuNet(seed = 1): tf.LayersModel {
  const model = buildMuNet({ alpha: 0.35, inputSize: TINY_SIZE, decoderFilters: [8, 8, 8, 8] });
  let next = seed;
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const isBatchNorm = layer.getClassName() === "BatchNormalization";
    const isEncoder = !layer.name.startsWith("decoder_") && !layer.name.startsWith("head_");
    const values = weights.map((w, i) => {
      const [low, high] = isBatchNorm && i === 3 ? [0.5, 1.5] : isBatchNorm && i === 0 && isEncoder ? [-GAMMA, GAMMA] : [-0.5, 0.5];
      return tf.randomUniform(w.shape, low, high, "float32", next++);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

export async function saveTinyModel(dir: string, metadata: ModelMetadata = tinyMetadata): Promise<tf.LayersModel> {
  const model = tinyMuNet();
  await saveModelFolder(model, dir, metadata);
  return model;
}

/** A batch of model inputs in [-1, 1]. */
export function tinyBatch(count = 2): tf.Tensor4D {
  return tf.randomUniform([count, TINY_SIZE, TINY_SIZE, 3], -1, 1, "float32", 7) as tf.Tensor4D;
}

export { captureIO } from "../capture-io.js";

export function predict(model: tf.LayersModel, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

