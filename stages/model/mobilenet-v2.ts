/**
 * The MobileNetV2 feature extractor as Keras builds it (`keras.applications.MobileNetV2`
 * with `include_top=False`): the same layers, widths, strides, padding and layer names,
 * so that Keras's ImageNet HDF5 weights load by layer name. Written from the published
 * architecture (Sandler et al. 2018) and Keras's layer naming.
 */
import * as tf from "@tensorflow/tfjs";

import { glorotUniform } from "./initializers.js";

/** MobileNetV2 width multipliers for which Keras publishes ImageNet weights (and MU-Net accepts). */
export const ALPHAS = [0.35, 0.5, 0.75, 1.0] as const;
export type Alpha = (typeof ALPHAS)[number];

/** Keras MobileNetV2 batch-norm settings (not the Keras defaults). */
const BN_EPSILON = 1e-3;
const BN_MOMENTUM = 0.999;
const RELU6 = 6;

/** One inverted-residual block at alpha 1: output filters, depthwise stride, expansion factor. */
export interface InvertedResidualSpec {
  readonly filters: number;
  readonly stride: 1 | 2;
  readonly expansion: number;
}

/** Keras MobileNetV2's blocks 0..16 at alpha 1 (block 0 has no expansion layer). */
export const INVERTED_RESIDUAL_BLOCKS: readonly InvertedResidualSpec[] = [
  { filters: 16, stride: 1, expansion: 1 },
  { filters: 24, stride: 2, expansion: 6 },
  { filters: 24, stride: 1, expansion: 6 },
  { filters: 32, stride: 2, expansion: 6 },
  { filters: 32, stride: 1, expansion: 6 },
  { filters: 32, stride: 1, expansion: 6 },
  { filters: 64, stride: 2, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 64, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 96, stride: 1, expansion: 6 },
  { filters: 160, stride: 2, expansion: 6 },
  { filters: 160, stride: 1, expansion: 6 },
  { filters: 160, stride: 1, expansion: 6 },
  { filters: 320, stride: 1, expansion: 6 },
];

/**
 * Rounds `value` to the nearest multiple of `divisor` (halves up), at least `divisor`,
 * and never more than 10% below `value` -- the channel rounding MobileNet uses.
 */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** Filters of the stem convolution `Conv1`. */
export function stemFilters(alpha: number): number {
  return makeDivisible(32 * alpha);
}

/** Output filters of a block's projection; Keras truncates `filters * alpha` before rounding. */
export function projectFilters(filters: number, alpha: number): number {
  return makeDivisible(Math.trunc(filters * alpha));
}

/** Filters of the final 1x1 convolution `Conv_1`: 1280, widened only for alpha > 1. */
export function lastConvFilters(alpha: number): number {
  return alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
}

/**
 * Keras's `correct_pad` for a 3x3 stride-2 convolution: one pixel on each side, minus
 * one at the top/left when the size is even (or unknown) -- for even sizes this is
 * exactly TensorFlow's `same` padding.
 */
export function correctPad(height: number | null, width: number | null): [[number, number], [number, number]] {
  const adjust = (size: number | null): number => (size === null ? 1 : 1 - (size % 2));
  return [
    [1 - adjust(height), 1],
    [1 - adjust(width), 1],
  ];
}

/**
 * Applies layers one after another, recording every layer's output by name, and stops
 * (turns further calls into no-ops) once the layer named `until` has been applied, so
 * no weights are created for layers past it.
 */
class LayerChain {
  readonly outputs = new Map<string, tf.SymbolicTensor>();
  readonly layers: tf.layers.Layer[] = [];
  private current: tf.SymbolicTensor;
  private done = false;

  constructor(
    input: tf.SymbolicTensor,
    private readonly until: string | undefined,
    private readonly seed: number | undefined,
  ) {
    this.current = input;
  }

  get finished(): boolean {
    return this.done;
  }

  get tensor(): tf.SymbolicTensor {
    return this.current;
  }

  /** Applies `layer` to the current tensor (or to `inputs`); the result becomes current. */
  apply(layer: tf.layers.Layer, inputs: tf.SymbolicTensor | tf.SymbolicTensor[] = this.current): void {
    if (this.done) return;
    const output = layer.apply(inputs) as tf.SymbolicTensor;
    this.outputs.set(layer.name, output);
    this.layers.push(layer);
    this.current = output;
    if (layer.name === this.until) this.done = true;
  }

  conv(name: string, filters: number, strides: 1 | 2 = 1, kernelSize = 1): void {
    this.apply(
      tf.layers.conv2d({
        name,
        filters,
        kernelSize,
        strides,
        padding: "same",
        useBias: false,
        kernelInitializer: glorotUniform(this.seed, name),
      }),
    );
  }

  depthwise(name: string, strides: 1 | 2): void {
    this.apply(
      tf.layers.depthwiseConv2d({
        name,
        kernelSize: 3,
        strides,
        depthMultiplier: 1,
        padding: strides === 1 ? "same" : "valid",
        useBias: false,
        depthwiseInitializer: glorotUniform(this.seed, name),
      }),
    );
  }

  batchNorm(name: string): void {
    this.apply(tf.layers.batchNormalization({ name, axis: -1, epsilon: BN_EPSILON, momentum: BN_MOMENTUM }));
  }

  relu6(name: string): void {
    this.apply(tf.layers.reLU({ name, maxValue: RELU6 }));
  }
}

function channelsOf(x: tf.SymbolicTensor): number {
  const channels = x.shape[x.shape.length - 1];
  if (channels === null || channels === undefined) throw new Error(`MobileNetV2 needs a known channel count, got shape [${x.shape.join(", ")}]`);
  return channels;
}

function invertedResidualBlock(chain: LayerChain, blockId: number, spec: InvertedResidualSpec, alpha: number): void {
  const inputs = chain.tensor;
  const inChannels = channelsOf(inputs);
  const outChannels = projectFilters(spec.filters, alpha);
  const prefix = blockId === 0 ? "expanded_conv_" : `block_${blockId}_`;
  if (blockId !== 0) {
    chain.conv(`${prefix}expand`, spec.expansion * inChannels);
    chain.batchNorm(`${prefix}expand_BN`);
    chain.relu6(`${prefix}expand_relu`);
  }
  if (spec.stride === 2) {
    const [, height, width] = chain.tensor.shape;
    chain.apply(tf.layers.zeroPadding2d({ name: `${prefix}pad`, padding: correctPad(height ?? null, width ?? null) }));
  }
  chain.depthwise(`${prefix}depthwise`, spec.stride);
  chain.batchNorm(`${prefix}depthwise_BN`);
  chain.relu6(`${prefix}depthwise_relu`);
  chain.conv(`${prefix}project`, outChannels);
  chain.batchNorm(`${prefix}project_BN`);
  if (spec.stride === 1 && inChannels === outChannels) {
    chain.apply(tf.layers.add({ name: `${prefix}add` }), [inputs, chain.tensor]);
  }
}

export interface MobileNetV2Options {
  /** Width multiplier. */
  alpha: Alpha;
  /** Name of the last layer to build; all of `include_top=False` (up to `out_relu`) if absent. */
  until?: string;
  /** Seeds the kernel initialisers (per layer); unseeded when absent. */
  seed?: number;
}

/**
 * Builds Keras's MobileNetV2 (without the classifier) on `input`, up to and including
 * the layer named `options.until`. Returns every built layer's output by layer name;
 * the input tensor is not among them.
 */
export function buildMobileNetV2(input: tf.SymbolicTensor, options: MobileNetV2Options): ReadonlyMap<string, tf.SymbolicTensor> {
  const { alpha, until, seed } = options;
  const chain = new LayerChain(input, until, seed);
  chain.conv("Conv1", stemFilters(alpha), 2, 3);
  chain.batchNorm("bn_Conv1");
  chain.relu6("Conv1_relu");
  INVERTED_RESIDUAL_BLOCKS.forEach((spec, blockId) => invertedResidualBlock(chain, blockId, spec, alpha));
  chain.conv("Conv_1", lastConvFilters(alpha));
  chain.batchNorm("Conv_1_bn");
  chain.relu6("out_relu");
  if (until !== undefined && !chain.finished) {
    for (const layer of chain.layers) layer.dispose();
    throw new Error(`MobileNetV2 has no layer named "${until}"`);
  }
  return chain.outputs;
}
