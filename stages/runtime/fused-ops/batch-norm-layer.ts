/**
 * Makes tfjs-layers' BatchNormalization run its training mode through
 * `fusedBatchNormTraining` while the tensorflow backend is active.
 *
 * The patch is on the layer class's `call`, decided per call: inference mode, other
 * backends, and layouts the fused op does not cover (rank other than 4, a channel axis
 * other than the last, no gamma or beta, non-float32) take tfjs-layers' own path. The
 * moving averages are updated exactly as tfjs-layers does it (Keras momentum semantics:
 * moving -= (moving - batch) * (1 - momentum), with the biased batch variance).
 * Per-instance `call` overrides (freeze.ts's inference mode for frozen layers) wrap this.
 */
import * as tf from "@tensorflow/tfjs";

import { fusedBatchNormTraining, registerFusedBatchNorm } from "./fused-batch-norm.js";
import { nativeBackend } from "./native-op.js";

type Kwargs = Record<string, unknown>;
type LayerCall = (this: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | tf.Tensor[];

/** The BatchNormalization fields tfjs-layers declares private. */
interface BatchNormFields {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gamma?: tf.LayerVariable;
  readonly beta?: tf.LayerVariable;
  readonly movingMean: tf.LayerVariable;
  readonly movingVariance: tf.LayerVariable;
}

/** BatchNormalization's prototype, from the serialization registry (building a layer would use up an auto name). */
function batchNormPrototype(): { call: LayerCall } {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization;
  if (entry === undefined) throw new Error("tfjs-layers registered no BatchNormalization class");
  return entry[0].prototype as unknown as { call: LayerCall };
}

function fusable(layer: BatchNormFields, input: tf.Tensor): boolean {
  return (
    input.rank === 4 &&
    input.dtype === "float32" &&
    (layer.axis === -1 || layer.axis === 3) &&
    layer.center &&
    layer.scale &&
    layer.gamma !== undefined &&
    layer.beta !== undefined &&
    nativeBackend() !== null
  );
}

function movingAverage(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const original = variable.read();
    variable.write(tf.sub(original, tf.mul(tf.sub(original, value), 1 - momentum)));
  });
}

let originalCall: LayerCall | null = null;

/** Whether BatchNormalization's training mode is currently patched to the fused op. */
export function fusedBatchNormInstalled(): boolean {
  return originalCall !== null;
}

/**
 * Registers the fused kernel and patches BatchNormalization's `call`; idempotent.
 * Returns a function that restores tfjs-layers' own `call`.
 */
export function installFusedBatchNormLayer(): () => void {
  registerFusedBatchNorm();
  const proto = batchNormPrototype();
  if (originalCall === null) {
    const original = proto.call;
    originalCall = original;
    proto.call = function fusedCall(this: tf.layers.Layer, inputs, kwargs) {
      const input = Array.isArray(inputs) ? inputs[0] : inputs;
      const layer = this as unknown as BatchNormFields;
      if (kwargs.training !== true || input === undefined || (Array.isArray(inputs) && inputs.length !== 1) || !fusable(layer, input)) {
        return original.call(this, inputs, kwargs);
      }
      return tf.tidy(() => {
        const { y, mean, variance } = fusedBatchNormTraining(
          input as tf.Tensor4D,
          layer.gamma?.read() as tf.Tensor1D,
          layer.beta?.read() as tf.Tensor1D,
          layer.epsilon,
        );
        movingAverage(layer.movingMean, mean, layer.momentum);
        movingAverage(layer.movingVariance, variance, layer.momentum);
        return y;
      });
    };
  }
  return uninstallFusedBatchNormLayer;
}

/** Restores tfjs-layers' own BatchNormalization `call`. */
export function uninstallFusedBatchNormLayer(): void {
  if (originalCall === null) return;
  batchNormPrototype().call = originalCall;
  originalCall = null;
}
