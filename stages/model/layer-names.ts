/**
 * Names of MU-Net's layers. The encoder keeps Keras MobileNetV2's layer names so that
 * Keras HDF5 weights map onto it by name; the decoder and head have names of their own.
 */
import type * as tf from "@tensorflow/tfjs";

/** Name of the model's input layer (the original Keras script's name). */
export const INPUT_LAYER = "input_image";

/** The encoder ends here: MobileNetV2's block 13 expansion, H/16. */
export const ENCODER_OUTPUT_LAYER = "block_13_expand_relu";

/** Encoder layers whose outputs feed the decoder stages, deepest first. */
export const SKIP_LAYERS = ["block_6_expand_relu", "block_3_expand_relu", "block_1_expand_relu", INPUT_LAYER] as const;

/** The 1x1 convolution of the head; its output is the logit of the sclera probability. */
export const HEAD_CONV_LAYER = "head_conv";

/** The model's output layer: the sigmoid of `head_conv`, a probability in (0, 1). */
export const OUTPUT_LAYER = "head_sigmoid";

/** Layer names of decoder stage `stage` (1 = deepest) and convolution `conv` (1 or 2) of it. */
export const decoderLayerName = {
  upsample: (stage: number): string => `decoder_${stage}_upsample`,
  concat: (stage: number): string => `decoder_${stage}_concat`,
  conv: (stage: number, conv: number): string => `decoder_${stage}_conv_${conv}`,
  bn: (stage: number, conv: number): string => `decoder_${stage}_bn_${conv}`,
  relu: (stage: number, conv: number): string => `decoder_${stage}_relu_${conv}`,
} as const;

const STEM_LAYERS: ReadonlySet<string> = new Set(["Conv1", "bn_Conv1", "Conv1_relu"]);
const BLOCK_PREFIX = /^block_(\d+)_/;

/**
 * Keras block index of an encoder layer name: the stem (`Conv1`, `bn_Conv1`,
 * `Conv1_relu`) and block 0 (`expanded_conv_*`) are 0, `block_N_*` is N. Null for every
 * other name: the input layer (it holds no weights) and the decoder and head layers.
 */
export function kerasBlockIndex(layerName: string): number | null {
  if (STEM_LAYERS.has(layerName) || layerName.startsWith("expanded_conv_")) return 0;
  const match = BLOCK_PREFIX.exec(layerName);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * Names of the layers that belong to the MobileNetV2 encoder (everything from
 * input_image up to block_13_expand_relu), in the model's layer order. Found by walking
 * the graph back from `block_13_expand_relu`, so it holds for any model built by
 * `buildMuNet` or loaded from one.
 */
export function encoderLayerNames(model: tf.LayersModel): string[] {
  const last = model.layers.find((layer) => layer.name === ENCODER_OUTPUT_LAYER);
  if (last === undefined) {
    throw new Error(`model "${model.name}" has no layer named ${ENCODER_OUTPUT_LAYER}; it is not a MU-Net`);
  }
  const inModel = new Set(model.layers);
  const encoder = new Set<tf.layers.Layer>();
  const pending: tf.layers.Layer[] = [last];
  for (let layer = pending.pop(); layer !== undefined; layer = pending.pop()) {
    if (encoder.has(layer) || !inModel.has(layer)) continue;
    encoder.add(layer);
    for (const node of layer.inboundNodes) pending.push(...node.inboundLayers);
  }
  return model.layers.filter((layer) => encoder.has(layer)).map((layer) => layer.name);
}
