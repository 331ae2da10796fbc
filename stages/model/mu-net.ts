/**
 * MU-Net: a U-Net whose encoder is Keras's ImageNet MobileNetV2 (cut at
 * `block_13_expand_relu`) and whose decoder upsamples through four skip connections to
 * a one-channel sigmoid mask of the input's size.
 */
import * as tf from "@tensorflow/tfjs";

import {
  ENCODER_OUTPUT_LAYER,
  HEAD_CONV_LAYER,
  INPUT_LAYER,
  OUTPUT_LAYER,
  SKIP_LAYERS,
  decoderLayerName,
} from "./layer-names.js";
import { ALPHAS, buildMobileNetV2, type Alpha } from "./mobilenet-v2.js";
import { glorotUniform } from "./initializers.js";

export type { Alpha } from "./mobilenet-v2.js";
export { ENCODER_OUTPUT_LAYER, SKIP_LAYERS, encoderLayerNames, kerasBlockIndex } from "./layer-names.js";

export interface MuNetArgs {
  /** MobileNetV2 width multiplier. Default 0.35. */
  alpha?: Alpha;
  /** Square input size in pixels, a multiple of 32. Default 224. */
  inputSize?: number;
  /** Filters of the 4 decoder stages, deepest first. Default [64, 48, 32, 16]. */
  decoderFilters?: readonly number[];
}

/** `MuNetArgs` with every default filled in. */
export type MuNetConfig = Required<MuNetArgs>;

export const MU_NET_DEFAULTS: Readonly<MuNetConfig> = { alpha: 0.35, inputSize: 224, decoderFilters: [64, 48, 32, 16] };

/** Decoder BatchNormalization: Keras defaults (unlike the encoder's momentum 0.999). */
const DECODER_BN = { epsilon: 1e-3, momentum: 0.99 } as const;

/** Fills defaults and checks every option, throwing an error that shows the value received. */
export function resolveMuNetArgs(args: MuNetArgs = {}): MuNetConfig {
  const config: MuNetConfig = {
    alpha: args.alpha ?? MU_NET_DEFAULTS.alpha,
    inputSize: args.inputSize ?? MU_NET_DEFAULTS.inputSize,
    decoderFilters: args.decoderFilters ?? MU_NET_DEFAULTS.decoderFilters,
  };
  if (!(ALPHAS as readonly number[]).includes(config.alpha)) {
    throw new Error(`alpha must be one of ${ALPHAS.join(", ")}, got ${String(config.alpha)}`);
  }
  if (!Number.isInteger(config.inputSize) || config.inputSize <= 0 || config.inputSize % 32 !== 0) {
    throw new Error(`inputSize must be a positive multiple of 32, got ${String(config.inputSize)}`);
  }
  const filters = config.decoderFilters;
  if (filters.length !== SKIP_LAYERS.length || !filters.every((f) => Number.isInteger(f) && f > 0)) {
    throw new Error(`decoderFilters must be ${SKIP_LAYERS.length} positive integers (one per decoder stage, deepest first), got [${filters.join(", ")}]`);
  }
  return { ...config, decoderFilters: [...filters] };
}

function decoderStage(x: tf.SymbolicTensor, skip: tf.SymbolicTensor, stage: number, filters: number, seed: number | undefined): tf.SymbolicTensor {
  const up = tf.layers.upSampling2d({ name: decoderLayerName.upsample(stage), size: [2, 2], interpolation: "nearest" }).apply(x);
  let y = tf.layers.concatenate({ name: decoderLayerName.concat(stage), axis: -1 }).apply([up as tf.SymbolicTensor, skip]);
  for (const conv of [1, 2]) {
    y = tf.layers
      .conv2d({
        name: decoderLayerName.conv(stage, conv),
        filters,
        kernelSize: 3,
        padding: "same",
        useBias: true,
        kernelInitializer: glorotUniform(seed, decoderLayerName.conv(stage, conv)),
        biasInitializer: "zeros",
      })
      .apply(y);
    y = tf.layers.batchNormalization({ name: decoderLayerName.bn(stage, conv), axis: -1, ...DECODER_BN }).apply(y);
    y = tf.layers.reLU({ name: decoderLayerName.relu(stage, conv) }).apply(y);
  }
  return y as tf.SymbolicTensor;
}

/**
 * Builds an untrained MU-Net (random encoder weights; load ImageNet weights separately).
 * With `seed`, the random weights are the same on every build and backend.
 */
export function buildMuNet(args?: MuNetArgs, options: { seed?: number } = {}): tf.LayersModel {
  const { alpha, inputSize, decoderFilters } = resolveMuNetArgs(args);
  const { seed } = options;
  const input = tf.input({ name: INPUT_LAYER, shape: [inputSize, inputSize, 3], dtype: "float32" });
  const encoder = buildMobileNetV2(input, { alpha, until: ENCODER_OUTPUT_LAYER, seed });
  const named = (name: string): tf.SymbolicTensor => {
    const tensor = name === INPUT_LAYER ? input : encoder.get(name);
    if (tensor === undefined) throw new Error(`MobileNetV2 built no layer named ${name}`);
    return tensor;
  };
  let x = named(ENCODER_OUTPUT_LAYER);
  SKIP_LAYERS.forEach((skip, i) => {
    x = decoderStage(x, named(skip), i + 1, decoderFilters[i] as number, seed);
  });
  const logits = tf.layers
    .conv2d({ name: HEAD_CONV_LAYER, filters: 1, kernelSize: 1, useBias: true, kernelInitializer: glorotUniform(seed, HEAD_CONV_LAYER) })
    .apply(x);
  const output = tf.layers.activation({ name: OUTPUT_LAYER, activation: "sigmoid" }).apply(logits) as tf.SymbolicTensor;
  return tf.model({ name: "mu_net", inputs: input, outputs: output });
}
