/**
 * One converter per Keras layer class that MU-Net uses, each turning a TF.js layer into
 * ONNX nodes. Inside the graph every tensor is NCHW (what ONNX Conv takes); the model
 * writer transposes the NHWC input and output at the ends.
 *
 * The classes, as `buildMuNet` makes them (MobileNetV2 encoder + U-Net decoder):
 *   InputLayer          the graph input (handled by the model writer)
 *   Conv2D              Conv (+ folded batch norm); explicit pads for `same`
 *   DepthwiseConv2D     Conv with group = input channels
 *   BatchNormalization  BatchNormalization (only where it could not be folded)
 *   ReLU                Relu, or Clip(0, max_value) for ReLU6
 *   ZeroPadding2D       merged into the pads of the convolution it feeds, else Pad
 *   Add                 Add (Sum for more than two inputs)
 *   Concatenate         Concat on the channel axis
 *   UpSampling2D        Resize, nearest, asymmetric coordinates, floor (as TF's nearest upsampling)
 *   Activation          Sigmoid (the head)
 * Any other class, or an option of these classes that changes what they compute and that
 * MU-Net does not use (dilation, fused activations, bilinear upsampling, ...), is an
 * `unsupported-layer` OnnxError naming the layer.
 */
import * as tf from "@tensorflow/tfjs";

import { unsupportedLayer } from "./onnx-error.js";
import { float, type OnnxGraph } from "./onnx-graph.js";

/** An NCHW tensor in the graph, possibly with zero padding not yet applied ([top, left, bottom, right]). */
export interface Value {
  readonly name: string;
  readonly pads?: readonly [number, number, number, number];
}

export interface ConvertContext {
  readonly graph: OnnxGraph;
  /** The value with any pending padding applied (one Pad node per padded value). */
  materialize(value: Value): string;
  /** A float32 scalar constant, shared between the nodes that use it. */
  scalar(value: number): string;
}

type Config = Record<string, unknown>;

export interface LayerConverter {
  /** Throws the `unsupported-layer` error if `layer` has an option this converter does not handle. */
  check(layer: tf.layers.Layer): void;
  /** Adds the layer's nodes; `inputs` in the order of the layer's inbound tensors. */
  convert(layer: tf.layers.Layer, inputs: readonly Value[], context: ConvertContext): Value;
}

function config(layer: tf.layers.Layer): Config {
  return layer.getConfig() as Config;
}

/** A Keras int-or-pair option as a pair. */
function pair(value: unknown): [number, number] {
  if (typeof value === "number") return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number")) return [value[0] as number, value[1] as number];
  throw new Error(`internal error: expected a number or a pair of numbers, got ${JSON.stringify(value)}`);
}

function requireChannelsLast(layer: tf.layers.Layer): void {
  const format = config(layer).dataFormat;
  if (format !== undefined && format !== "channelsLast") unsupportedLayer(layer, `has dataFormat ${String(format)}; only channelsLast is converted`);
}

/** The [batch, height, width, channels] shape of the layer's first input, with height, width and channels known. */
export function inputShape(layer: tf.layers.Layer): [number, number, number] {
  const node = layer.inboundNodes[0] as unknown as { inputTensors: tf.SymbolicTensor[] } | undefined;
  const shape = node?.inputTensors[0]?.shape;
  if (shape === undefined || shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    unsupportedLayer(layer, `has input shape [${shape?.join(", ") ?? ""}]; the converter needs [batch, height, width, channels] with known sizes`);
  }
  return shape.slice(1) as [number, number, number];
}

function only(layer: tf.layers.Layer, inputs: readonly Value[]): Value {
  if (inputs.length !== 1) unsupportedLayer(layer, `has ${inputs.length} inputs, expected 1`);
  return inputs[0] as Value;
}

// ---- convolutions -------------------------------------------------------------------

function checkConvolution(layer: tf.layers.Layer): void {
  requireChannelsLast(layer);
  const c = config(layer);
  if (c.activation !== "linear") unsupportedLayer(layer, `has activation ${String(c.activation)}; only linear convolutions are converted (MU-Net applies activations in their own layers)`);
  const dilation = pair(c.dilationRate ?? 1);
  if (dilation[0] !== 1 || dilation[1] !== 1) unsupportedLayer(layer, `has dilationRate [${dilation.join(", ")}]; only 1 is converted`);
  if (c.padding !== "same" && c.padding !== "valid") unsupportedLayer(layer, `has padding ${String(c.padding)}; only same and valid are converted`);
}

/** TensorFlow's `same` padding of one spatial axis: [before, after], the odd pixel after. */
export function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX Conv pads [top, left, bottom, right] for the layer, plus any padding pending on its input. */
function convPads(layer: tf.layers.Layer, input: Value): number[] {
  const c = config(layer);
  const [height, width] = inputShape(layer);
  const [kh, kw] = pair(c.kernelSize);
  const [sh, sw] = pair(c.strides ?? 1);
  const [top, bottom] = c.padding === "same" ? samePadding(height, kh, sh) : [0, 0];
  const [left, right] = c.padding === "same" ? samePadding(width, kw, sw) : [0, 0];
  const pending = input.pads ?? [0, 0, 0, 0];
  return [top + pending[0], left + pending[1], bottom + pending[2], right + pending[3]];
}

function addConv(layer: tf.layers.Layer, input: Value, kernel: tf.Tensor4D, group: number, context: ConvertContext): Value {
  const { graph } = context;
  const c = config(layer);
  const bias = layer.getWeights()[1];
  const w = graph.addFloats(`${layer.name}/kernel`, kernel.shape, kernel.dataSync() as Float32Array);
  const inputs = [input.name, w];
  if (c.useBias === true && bias !== undefined) inputs.push(graph.addFloats(`${layer.name}/bias`, bias.shape, bias.dataSync() as Float32Array));
  const [kh, kw] = pair(c.kernelSize);
  const name = graph.op("Conv", layer.name, inputs, {
    kernel_shape: [kh, kw],
    strides: pair(c.strides ?? 1),
    dilations: [1, 1],
    pads: convPads(layer, input),
    group,
  });
  return { name };
}

const conv2d: LayerConverter = {
  check: checkConvolution,
  convert(layer, inputs, context) {
    const input = only(layer, inputs);
    // Keras kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw].
    const kernel = tf.tidy(() => tf.transpose(layer.getWeights()[0] as tf.Tensor4D, [3, 2, 0, 1]));
    try {
      return addConv(layer, input, kernel, 1, context);
    } finally {
      kernel.dispose();
    }
  },
};

const depthwiseConv2d: LayerConverter = {
  check: checkConvolution,
  convert(layer, inputs, context) {
    const input = only(layer, inputs);
    const [, , channels] = inputShape(layer);
    // Keras kernel [kh, kw, in, multiplier]; output channel c * multiplier + m uses [:, :, c, m].
    // ONNX grouped Conv with group = in: weight [in * multiplier, 1, kh, kw] in that order.
    const kernel = tf.tidy(() => {
      const k = layer.getWeights()[0] as tf.Tensor4D;
      const [kh, kw, inChannels, multiplier] = k.shape;
      return tf.reshape(tf.transpose(k, [2, 3, 0, 1]), [inChannels * multiplier, 1, kh, kw]) as tf.Tensor4D;
    });
    try {
      return addConv(layer, input, kernel, channels, context);
    } finally {
      kernel.dispose();
    }
  },
};

// ---- normalisation and activations ----------------------------------------------------

const batchNormalization: LayerConverter = {
  check(layer) {
    const axis = config(layer).axis;
    if (axis !== -1 && axis !== 3) unsupportedLayer(layer, `normalises axis ${JSON.stringify(axis)}; only the channel axis (-1) is converted`);
  },
  convert(layer, inputs, context) {
    const { graph } = context;
    const c = config(layer);
    const channels = inputShape(layer)[2];
    const weights = layer.getWeights().map((w) => w.dataSync() as Float32Array);
    let next = 0;
    const gamma = c.scale === false ? new Float32Array(channels).fill(1) : (weights[next++] as Float32Array);
    const beta = c.center === false ? new Float32Array(channels) : (weights[next++] as Float32Array);
    const [mean, variance] = [weights[next++] as Float32Array, weights[next++] as Float32Array];
    const parameters = Object.entries({ gamma, beta, moving_mean: mean, moving_variance: variance }).map(([name, values]) => graph.addFloats(`${layer.name}/${name}`, [channels], values));
    const name = graph.op("BatchNormalization", layer.name, [context.materialize(only(layer, inputs)), ...parameters], { epsilon: float(c.epsilon as number) });
    return { name };
  },
};

const relu: LayerConverter = {
  check(layer) {
    const c = config(layer);
    for (const option of ["negativeSlope", "threshold"]) {
      const value = c[option];
      if (value !== undefined && value !== null && value !== 0) unsupportedLayer(layer, `has ${option} ${JSON.stringify(value)}; only 0 is converted`);
    }
  },
  convert(layer, inputs, context) {
    const input = context.materialize(only(layer, inputs));
    const maxValue = config(layer).maxValue;
    if (typeof maxValue === "number") {
      return { name: context.graph.op("Clip", layer.name, [input, context.scalar(0), context.scalar(maxValue)]) };
    }
    return { name: context.graph.op("Relu", layer.name, [input]) };
  },
};

const activation: LayerConverter = {
  check(layer) {
    const name = config(layer).activation;
    if (name !== "sigmoid") unsupportedLayer(layer, `has activation ${String(name)}; only sigmoid (MU-Net's head) is converted`);
  },
  convert(layer, inputs, context) {
    return { name: context.graph.op("Sigmoid", layer.name, [context.materialize(only(layer, inputs))]) };
  },
};

// ---- shape and merge layers ------------------------------------------------------------

const zeroPadding2d: LayerConverter = {
  check: requireChannelsLast,
  convert(layer, inputs) {
    const input = only(layer, inputs);
    const padding = config(layer).padding as [[number, number], [number, number]];
    const [[top, bottom], [left, right]] = padding;
    const pending = input.pads ?? [0, 0, 0, 0];
    // Kept pending: a convolution takes it into its own pads, anything else materialises it.
    return { name: input.name, pads: [pending[0] + top, pending[1] + left, pending[2] + bottom, pending[3] + right] };
  },
};

const add: LayerConverter = {
  check() {},
  convert(layer, inputs, context) {
    const names = inputs.map((input) => context.materialize(input));
    return { name: context.graph.op(names.length === 2 ? "Add" : "Sum", layer.name, names) };
  },
};

const concatenate: LayerConverter = {
  check(layer) {
    const axis = config(layer).axis;
    if (axis !== -1 && axis !== 3) unsupportedLayer(layer, `concatenates on axis ${JSON.stringify(axis)}; only the channel axis (-1) is converted`);
  },
  convert(layer, inputs, context) {
    return { name: context.graph.op("Concat", layer.name, inputs.map((input) => context.materialize(input)), { axis: 1 }) };
  },
};

const upSampling2d: LayerConverter = {
  check(layer) {
    requireChannelsLast(layer);
    const interpolation = config(layer).interpolation ?? "nearest";
    if (interpolation !== "nearest") unsupportedLayer(layer, `has interpolation ${String(interpolation)}; only nearest is converted`);
  },
  convert(layer, inputs, context) {
    const { graph } = context;
    const [sh, sw] = pair(config(layer).size);
    const scales = graph.addFloats(`${layer.name}/scales`, [4], [1, 1, sh, sw]);
    // Output pixel i reads input pixel floor(i / scale): TF's nearest resize at an integer factor.
    const name = graph.op("Resize", layer.name, [context.materialize(only(layer, inputs)), "", scales], {
      mode: "nearest",
      coordinate_transformation_mode: "asymmetric",
      nearest_mode: "floor",
    });
    return { name };
  },
};

/** The converters by Keras class name: exactly the classes MU-Net is built from (InputLayer aside). */
export const LAYER_CONVERTERS: ReadonlyMap<string, LayerConverter> = new Map([
  ["Conv2D", conv2d],
  ["DepthwiseConv2D", depthwiseConv2d],
  ["BatchNormalization", batchNormalization],
  ["ReLU", relu],
  ["Activation", activation],
  ["ZeroPadding2D", zeroPadding2d],
  ["Add", add],
  ["Concatenate", concatenate],
  ["UpSampling2D", upSampling2d],
]);
