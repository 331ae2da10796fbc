/**
 * Recomputes the moving statistics of the BatchNormalization layers that train, from
 * the current weights ("precise BN", Wu & Johnson 2021, "Rethinking 'Batch' in BatchNorm").
 *
 * Keras keeps exponential moving averages with momentum 0.99 (0.999 in MobileNetV2's
 * encoder). After a few hundred steps from random weights those averages are still
 * mostly their initial values and describe weights that no longer exist, so inference
 * mode (validation, threshold, predict) sees features scaled wrongly: training dice is
 * high while validation dice is near zero. Averaging the batch statistics of a fixed
 * set of training batches, in training mode, with the weights as they are now, removes
 * that lag. Frozen BatchNorm layers run in inference mode (freeze.ts) and keep theirs.
 */
import * as tf from "@tensorflow/tfjs";

import type { InputScaling } from "../model/input-scaling.js";
import { batchPositions, batchTensors, epochOrder, type SplitData } from "./train-data.js";
import { stopPoint } from "../runtime/stop-point.js";

/** tfjs-layers declares `momentum` private and readonly; it is read at every call. */
interface MutableMomentum {
  momentum: number;
}

export interface StatisticsPass {
  readonly model: tf.LayersModel;
  readonly data: SplitData;
  /** Batches to average over (fewer when the split is smaller). */
  readonly batches: number;
  readonly batchSize: number;
  readonly scaling: InputScaling;
  /** The same items every time: a seeded order that does not depend on the epoch. */
  readonly seed: number;
  /** The training positions to draw from instead (balanced sampling's order, so the statistics are of the batches training sees). */
  readonly order?: readonly number[];
  readonly signal: AbortSignal;
}

/** Layers whose statistics are recomputed: BatchNormalization layers that train. */
export function trainingBatchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((layer) => layer.getClassName() === "BatchNormalization" && layer.trainable);
}

/**
 * Replaces each training BatchNorm layer's moving mean and variance with the average of
 * its batch statistics over `batches` training batches. Weights other than those
 * statistics are untouched; returns the number of batches used.
 */
export async function recomputeBatchNormStatistics(pass: StatisticsPass): Promise<number> {
  const layers = trainingBatchNormLayers(pass.model);
  if (layers.length === 0) return 0;
  const order = pass.order ?? epochOrder(pass.data.count, pass.seed, 0, true);
  const batches = batchPositions(order, pass.batchSize).slice(0, pass.batches);
  const saved = layers.map((layer) => (layer as unknown as MutableMomentum).momentum);
  try {
    for (const [k, positions] of batches.entries()) {
      await stopPoint(pass.signal);
      // Keras semantics: moving -= (moving - batch) * (1 - momentum). Momentum k/(k+1)
      // makes the moving value the running mean of the k+1 batch statistics so far.
      for (const layer of layers) (layer as unknown as MutableMomentum).momentum = k / (k + 1);
      const bytes = await pass.data.gather(positions);
      tf.tidy(() => {
        const batch = batchTensors(bytes, pass.data.size, pass.scaling);
        pass.model.apply(batch.images, { training: true });
      });
    }
  } finally {
    layers.forEach((layer, i) => ((layer as unknown as MutableMomentum).momentum = saved[i] as number));
  }
  return batches.length;
}
