/**
 * Which layers of MU-Net train: `encoder` (stage 1: the decoder and head only), `none`
 * (everything) or `{ below: "block_N" }` (encoder layers of Keras blocks < N stay fixed;
 * the stem and `expanded_conv` count as block 0).
 *
 * Keras runs a BatchNormalization layer whose `trainable` is false in inference mode:
 * it normalises with its moving statistics and does not update them. tf.js's
 * BatchNormalization looks only at the `training` flag of the call, so a frozen encoder
 * would still normalise with batch statistics and drift its moving averages.
 * `inferenceModeForFrozenBatchNorm` gives frozen BN layers Keras's behaviour.
 */
import type * as tf from "@tensorflow/tfjs";

import { encoderLayerNames, kerasBlockIndex } from "../model/mu-net.js";

export type FreezeSpec = "encoder" | "none" | { readonly below: string };

export interface FreezeSummary {
  /** Layers with weights that do not train. */
  readonly frozenLayers: readonly string[];
  readonly trainableParams: number;
  /** Parameters that do not train, BatchNorm moving statistics included. */
  readonly frozenParams: number;
}

export class FreezeSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FreezeSpecError";
  }
}

const BLOCK_NAME = /^block_(\d+)$/;

/** The block N of `{ below: "block_N" }`, checked against the blocks the model's encoder has. */
export function freezeBoundary(model: tf.LayersModel, below: string): number {
  const blocks = encoderBlocks(model);
  const valid = blocks.map((b) => `block_${b}`);
  const match = BLOCK_NAME.exec(below);
  const block = match?.[1] === undefined ? null : Number(match[1]);
  if (block === null || !blocks.includes(block)) {
    throw new FreezeSpecError(`freeze.below: unknown encoder block ${JSON.stringify(below)}; valid: ${valid.join(", ")}`);
  }
  return block;
}

/** Block indices present in the encoder, ascending. */
export function encoderBlocks(model: tf.LayersModel): number[] {
  const blocks = new Set<number>();
  for (const name of encoderLayerNames(model)) {
    const block = kerasBlockIndex(name);
    if (block !== null) blocks.add(block);
  }
  return [...blocks].sort((a, b) => a - b);
}

/** Whether the layer named `name` is frozen under `spec`. */
export function freezePredicate(model: tf.LayersModel, spec: FreezeSpec): (name: string) => boolean {
  if (spec === "none") return () => false;
  const encoder = new Set(encoderLayerNames(model));
  if (spec === "encoder") return (name) => encoder.has(name);
  const boundary = freezeBoundary(model, spec.below);
  return (name) => {
    if (!encoder.has(name)) return false;
    const block = kerasBlockIndex(name);
    return block !== null && block < boundary;
  };
}

/** Sets `trainable` on every layer (all trainable, then the frozen ones not) and counts parameters. */
export function applyFreeze(model: tf.LayersModel, spec: FreezeSpec): FreezeSummary {
  const frozen = freezePredicate(model, spec);
  const frozenLayers: string[] = [];
  for (const layer of model.layers) {
    layer.trainable = !frozen(layer.name);
    if (!layer.trainable && layer.weights.length > 0) frozenLayers.push(layer.name);
  }
  const count = (weights: readonly tf.LayerVariable[]): number => weights.reduce((sum, w) => sum + w.shape.reduce<number>((p, d) => p * (d ?? 1), 1), 0);
  return {
    frozenLayers,
    trainableParams: count(model.trainableWeights),
    frozenParams: count(model.nonTrainableWeights),
  };
}

/** The variables the optimiser updates: every trainable weight of the model. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/**
 * Makes every frozen BatchNormalization layer run in inference mode even when the model
 * is called with `training: true`. Returns a function that undoes it.
 */
export function inferenceModeForFrozenBatchNorm(model: tf.LayersModel): () => void {
  const patched: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization" || layer.trainable) continue;
    const target = layer as unknown as { call: LayerCall };
    const original = target.call.bind(layer);
    target.call = (inputs, kwargs) => original(inputs, { ...kwargs, training: false });
    patched.push(layer);
  }
  return () => {
    for (const layer of patched) delete (layer as unknown as { call?: LayerCall }).call;
  };
}

/**
 * Every weight of the model, layer by layer in each layer's own order. Unlike
 * `model.getWeights()` (trainable weights first), the order does not depend on which
 * layers are frozen, so it is the same for every build of the architecture.
 * The tensors are the model's variables: do not dispose them.
 */
export function layerOrderedWeights(model: tf.LayersModel): tf.Tensor[] {
  return model.layers.flatMap((layer) => layer.getWeights());
}

/** Sets weights given in `layerOrderedWeights` order (values are copied). */
export function setLayerOrderedWeights(model: tf.LayersModel, weights: readonly tf.Tensor[]): void {
  const expected = model.layers.reduce((n, layer) => n + layer.weights.length, 0);
  if (weights.length !== expected) throw new Error(`expected ${expected} weight tensors for model ${model.name}, got ${weights.length}`);
  let offset = 0;
  for (const layer of model.layers) {
    const count = layer.weights.length;
    if (count === 0) continue;
    layer.setWeights(weights.slice(offset, offset + count));
    offset += count;
  }
}
