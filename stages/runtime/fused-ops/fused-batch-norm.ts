/**
 * Training-mode batch normalisation as two TensorFlow ops: `FusedBatchNormV3`
 * (is_training) forward and `FusedBatchNormGradV3` backward, instead of the ~20 small
 * eager ops of tfjs's moments + normalise and their gradients.
 *
 * It is a kernel of its own (`MuFusedBatchNormTraining`, tensorflow backend only) with a
 * registered gradient, so the gradient tape saves TensorFlow's reserve spaces for the
 * backward op like any kernel's saved tensors.
 */
import * as tf from "@tensorflow/tfjs";

import { runNativeOp, type AttrValue } from "./native-op.js";

export const FUSED_BATCH_NORM_TRAINING = "MuFusedBatchNormTraining";

export interface FusedBatchNormResult {
  /** The normalised, scaled and shifted input. */
  readonly y: tf.Tensor4D;
  /** Batch mean per channel. */
  readonly mean: tf.Tensor1D;
  /** Batch variance per channel, biased (divided by N*H*W) like `tf.moments`. */
  readonly variance: tf.Tensor1D;
}

interface FusedAttrs {
  readonly epsilon: number;
}

function opAttrs(epsilon: number): Record<string, AttrValue> {
  return {
    T: { float32Type: true },
    U: { float32Type: true },
    epsilon: { float: epsilon },
    data_format: { string: "NHWC" },
    is_training: { bool: true },
  };
}

/** Kernel outputs: y, batch mean, Bessel-corrected batch variance, reserve spaces 1-3. */
const kernel: tf.KernelConfig = {
  kernelName: FUSED_BATCH_NORM_TRAINING,
  backendName: "tensorflow",
  kernelFunc: ({ inputs, attrs }) => {
    const { x, scale, offset } = inputs as { x: tf.Tensor4D; scale: tf.Tensor1D; offset: tf.Tensor1D };
    const { epsilon } = attrs as unknown as FusedAttrs;
    // With is_training and the default exponential_avg_factor of 1, TensorFlow ignores
    // the mean and variance inputs; empty tensors satisfy the signature.
    const empty = tf.tensor1d([], "float32");
    try {
      return runNativeOp("FusedBatchNormV3", opAttrs(epsilon), [x, scale, offset, empty, empty], 6);
    } finally {
      empty.dispose();
    }
  },
};

const gradient: tf.GradConfig = {
  kernelName: FUSED_BATCH_NORM_TRAINING,
  inputsToSave: ["x", "scale"],
  outputsToSave: [false, false, false, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    // Only y carries a gradient: the statistics feed the moving averages, which are
    // non-trainable variables.
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const [x, scale, r1, r2, r3] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const { epsilon } = attrs as unknown as FusedAttrs;
    // One op gives all three gradients. It runs here, in the scope of the whole backward
    // pass (which disposes what nobody asked for), not in the per-input scopes of the
    // functions returned, each of which would dispose the other two.
    const [dx, dScale, dOffset] = runNativeOp("FusedBatchNormGradV3", opAttrs(epsilon), [dy, x, scale, r1, r2, r3], 5) as [tf.Tensor, tf.Tensor, tf.Tensor];
    return { x: () => dx, scale: () => dScale, offset: () => dOffset };
  },
};

let registered = false;

/** Registers the kernel (tensorflow backend) and its gradient, once per process. */
export function registerFusedBatchNorm(): void {
  if (registered) return;
  tf.registerKernel(kernel);
  tf.registerGradient(gradient);
  registered = true;
}

/**
 * Batch norm over axes 0-2 of an NHWC float32 tensor with the batch's statistics, on the
 * tensorflow backend (after `registerFusedBatchNorm`). Gradients flow to x, gamma and
 * beta through `y`; `mean` and `variance` carry none.
 */
export function fusedBatchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): FusedBatchNormResult {
  const count = x.shape[0] * x.shape[1] * x.shape[2];
  const outputs = tf.engine().runKernel(FUSED_BATCH_NORM_TRAINING, { x, scale: gamma, offset: beta }, { epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  const [y, mean, besselVariance] = outputs as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
  // TensorFlow returns the Bessel-corrected variance (for its own moving average);
  // tfjs-layers averages the biased one, as tf.moments computes it.
  const variance = tf.mul(besselVariance, count > 1 ? (count - 1) / count : 1) as tf.Tensor1D;
  tf.dispose([besselVariance, ...outputs.slice(3)]);
  return { y, mean, variance };
}
