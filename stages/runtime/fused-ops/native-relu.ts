/**
 * ReLU and ReLU6 (MobileNetV2's activation) as one TensorFlow op each way on the
 * tensorflow backend.
 *
 * - Gradients: tfjs computes Relu's as dy * step(x) and Relu6's as
 *   dy * (x <= 6) * step(x), and tfjs-node runs `step` as six small ops over the whole
 *   activation (about a sixth of a MU-Net training step's kernel time). `ReluGrad` and
 *   `Relu6Grad` do it in one pass each.
 * - tfjs-layers' ReLU layer with `maxValue` runs relu then clipByValue, which tfjs-node
 *   computes as minimum + maximum, and whose gradient is five more ops. With maxValue 6
 *   the layer runs `tf.relu6` (TensorFlow's Relu6) instead: the same values.
 *
 * Off the tensorflow backend, and for non-float32 tensors, tfjs's own paths run.
 * Differences from them, all on measure-zero inputs: a NaN input gets gradient 0 (the
 * forward value is NaN already), and an input of exactly 6 gets gradient 0 from
 * Relu6Grad where relu + clipByValue passes it.
 */
import * as tf from "@tensorflow/tfjs";

import { nativeBackend, runNativeOp } from "./native-op.js";

type LayerCall = (this: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const originalGrads = new Map<string, tf.GradConfig>();
let originalReluCall: LayerCall | null = null;

function useNative(...tensors: tf.Tensor[]): boolean {
  return nativeBackend() !== null && tensors.every((t) => t.dtype === "float32");
}

function overrideGradient(kernelName: "Relu" | "Relu6", nativeOp: "ReluGrad" | "Relu6Grad"): void {
  if (originalGrads.has(kernelName)) return;
  const tfjsGrad = tf.getGradient(kernelName);
  if (tfjsGrad === undefined) throw new Error(`tfjs registered no gradient for ${kernelName}`);
  originalGrads.set(kernelName, tfjsGrad);
  tf.registerGradient({
    kernelName,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const dyTensor = dy as tf.Tensor;
      if (!useNative(x, dyTensor)) return tfjsGrad.gradFunc(dy, saved, attrs);
      return { x: () => runNativeOp(nativeOp, { T: { float32Type: true } }, [dyTensor, x], 1)[0] as tf.Tensor };
    },
  });
}

function reluLayerPrototype(): { call: LayerCall } {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.ReLU;
  if (entry === undefined) throw new Error("tfjs-layers registered no ReLU class");
  return entry[0].prototype as unknown as { call: LayerCall };
}

/** Installs the native gradients and the ReLU6 layer path; idempotent. */
export function installNativeRelu(): void {
  overrideGradient("Relu", "ReluGrad");
  overrideGradient("Relu6", "Relu6Grad");
  if (originalReluCall !== null) return;
  const proto = reluLayerPrototype();
  const original = proto.call;
  originalReluCall = original;
  proto.call = function nativeRelu6Call(this: tf.layers.Layer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const maxValue = (this as unknown as { maxValue?: number }).maxValue;
    if (maxValue !== 6 || input === undefined || (Array.isArray(inputs) && inputs.length !== 1) || !useNative(input)) return original.call(this, inputs, kwargs);
    return tf.relu6(input);
  };
}

/** Puts tfjs's own gradients and ReLU layer back. */
export function uninstallNativeRelu(): void {
  for (const config of originalGrads.values()) tf.registerGradient(config);
  originalGrads.clear();
  if (originalReluCall !== null) reluLayerPrototype().call = originalReluCall;
  originalReluCall = null;
}
