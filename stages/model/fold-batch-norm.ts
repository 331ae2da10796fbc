/**
 * Folds inference-mode batch normalisation into the convolution before it.
 *
 * BatchNormalization in inference mode is a per-channel affine map,
 * y = gamma * (x - mean) / sqrt(variance + epsilon) + beta = x * s + (beta - mean * s),
 * so a Conv2D or DepthwiseConv2D (linear activation) whose only consumer is a BN layer
 * on its channel axis computes the same as one convolution with kernel * s (per output
 * channel) and bias (bias - mean) * s + beta. `foldBatchNorm` rebuilds a functional model
 * with those pairs merged (the convolution keeps its name) and every other layer cloned
 * with its weights; the result is for inference only (it has no BN to train).
 */
import * as tf from "@tensorflow/tfjs";

type Kernels = "Conv2D" | "DepthwiseConv2D";
const FOLDABLE: ReadonlySet<string> = new Set<Kernels>(["Conv2D", "DepthwiseConv2D"]);

interface BatchNormConfig {
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
}

interface FoldPair {
  readonly conv: tf.layers.Layer;
  readonly bn: tf.layers.Layer;
}

export class FoldBatchNormError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FoldBatchNormError";
  }
}

/** The layer's single call: shared layers (several inbound nodes) are not supported. */
function onlyNode(layer: tf.layers.Layer): { inputs: tf.SymbolicTensor[]; outputs: tf.SymbolicTensor[] } {
  if (layer.inboundNodes.length !== 1) {
    throw new FoldBatchNormError(`layer ${layer.name} is called ${layer.inboundNodes.length} times; foldBatchNorm needs each layer called once`);
  }
  const node = layer.inboundNodes[0] as unknown as { inputTensors: tf.SymbolicTensor[]; outputTensors: tf.SymbolicTensor[] };
  return { inputs: node.inputTensors, outputs: node.outputTensors };
}

/** The convolution-then-BN pairs to fold, keyed by the BN layer's name. */
function findPairs(model: tf.LayersModel): Map<string, FoldPair> {
  const pairs = new Map<string, FoldPair>();
  for (const bn of model.layers) {
    if (bn.getClassName() !== "BatchNormalization") continue;
    const config = bn.getConfig() as unknown as BatchNormConfig;
    const [input] = onlyNode(bn).inputs;
    const conv = input?.sourceLayer as tf.layers.Layer | undefined;
    if (conv === undefined || !FOLDABLE.has(conv.getClassName())) continue;
    const convConfig = conv.getConfig();
    const rank = input?.shape.length ?? 0;
    const channelsLast = config.axis === -1 || config.axis === rank - 1;
    if (!channelsLast || convConfig.activation !== "linear" || (convConfig.dataFormat ?? "channelsLast") !== "channelsLast") continue;
    if (conv.outboundNodes.length !== 1) continue; // its output is used elsewhere too
    pairs.set(bn.name, { conv, bn });
  }
  return pairs;
}

/** The folded [kernel, bias] of a pair. */
function foldedWeights({ conv, bn }: FoldPair): tf.Tensor[] {
  const config = bn.getConfig() as unknown as BatchNormConfig;
  return tf.tidy(() => {
    const bnWeights = bn.getWeights();
    let next = 0;
    const channels = (bnWeights[0] as tf.Tensor).shape[0] as number;
    const gamma = config.scale ? (bnWeights[next++] as tf.Tensor) : tf.ones([channels]);
    const beta = config.center ? (bnWeights[next++] as tf.Tensor) : tf.zeros([channels]);
    const mean = bnWeights[next++] as tf.Tensor;
    const variance = bnWeights[next++] as tf.Tensor;
    const scale = tf.div(gamma, tf.sqrt(tf.add(variance, config.epsilon)));
    const [kernel, convBias] = conv.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
    // Conv2D kernels are [h, w, in, out]; depthwise [h, w, in, multiplier], whose output
    // channel c * multiplier + m scales by s[c * multiplier + m].
    const [, , inChannels, last] = kernel.shape;
    const perKernel = conv.getClassName() === "DepthwiseConv2D" ? tf.reshape(scale, [1, 1, inChannels, last]) : tf.reshape(scale, [1, 1, 1, last]);
    const bias = convBias ?? tf.zeros([channels]);
    return [tf.mul(kernel, perKernel), tf.add(tf.mul(tf.sub(bias, mean), scale), beta)];
  });
}

function cloneLayer(layer: tf.layers.Layer, overrides: Record<string, unknown> = {}): tf.layers.Layer {
  const config = { ...layer.getConfig(), ...overrides } as tf.serialization.ConfigDict;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (entry === undefined) throw new FoldBatchNormError(`foldBatchNorm: layer class ${layer.getClassName()} of ${layer.name} is not registered`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as unknown as tf.layers.Layer;
}

/**
 * An equivalent inference model with each Conv2D/DepthwiseConv2D + BatchNormalization
 * pair merged into one convolution. Weights are copied: the input model is unchanged and
 * can be disposed independently.
 */
export function foldBatchNorm(model: tf.LayersModel): tf.LayersModel {
  const pairs = findPairs(model);
  const foldedConvs = new Map([...pairs.values()].map((pair) => [pair.conv.name, pair]));
  const mapped = new Map<number, tf.SymbolicTensor>();
  const lookup = (tensor: tf.SymbolicTensor): tf.SymbolicTensor => {
    const found = mapped.get(tensor.id);
    if (found === undefined) throw new FoldBatchNormError(`foldBatchNorm: tensor ${tensor.name} is used before it is computed`);
    return found;
  };
  const pending: { layer: tf.layers.Layer; weights: tf.Tensor[]; dispose: boolean }[] = [];
  for (const layer of model.layers) {
    const { inputs, outputs } = onlyNode(layer);
    if (layer.getClassName() === "InputLayer") {
      const output = outputs[0] as tf.SymbolicTensor;
      mapped.set(output.id, tf.input({ name: layer.name, shape: output.shape.slice(1) as number[], dtype: output.dtype }));
      continue;
    }
    const pairOfBn = pairs.get(layer.name);
    if (pairOfBn !== undefined) {
      // The folded convolution already stands for this BN: its output is the BN's.
      const convOutput = onlyNode(pairOfBn.conv).outputs[0] as tf.SymbolicTensor;
      mapped.set((outputs[0] as tf.SymbolicTensor).id, lookup(convOutput));
      continue;
    }
    const pair = foldedConvs.get(layer.name);
    const clone = pair === undefined ? cloneLayer(layer) : cloneLayer(layer, { useBias: true });
    const newInputs = inputs.map(lookup);
    const applied = clone.apply(newInputs.length === 1 ? (newInputs[0] as tf.SymbolicTensor) : newInputs);
    const newOutputs = Array.isArray(applied) ? applied : [applied];
    outputs.forEach((output, i) => mapped.set(output.id, newOutputs[i] as tf.SymbolicTensor));
    if (pair !== undefined) pending.push({ layer: clone, weights: foldedWeights(pair), dispose: true });
    else if (layer.weights.length > 0) pending.push({ layer: clone, weights: layer.getWeights(), dispose: false });
  }
  const folded = tf.model({ name: model.name, inputs: model.inputs.map(lookup), outputs: model.outputs.map(lookup) });
  for (const { layer, weights, dispose } of pending) {
    layer.setWeights(weights);
    if (dispose) tf.dispose(weights);
  }
  return folded;
}
