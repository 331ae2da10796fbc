/**
 * Gradients of Sum and Mean over leading axes (every batch-norm layer's moments, in training
 * mode) as one broadcast of dy: the Tile kernel here, a single XNNPACK product. tfjs's own
 * gradients compute dy * ones(x.shape) (and Mean then divides the whole tensor), with the
 * ones filled in JavaScript and uploaded to the heap on every call: about 5% of a MU-Net
 * training step on wasm. Same values: dy * 1 / n is dy / n. Other axes and dtypes keep
 * tfjs's gradient.
 *
 * Gradients are registered for every backend, not per backend; these are only installed when
 * the wasm backend activates (one backend per process), and give the same numbers anywhere.
 */
import * as tf from "@tensorflow/tfjs";

const ours = new Set<tf.GradConfig["gradFunc"]>();

/** Whether `axes` (normalised) are 0..k-1 for some k >= 1, all axes included. */
function leadingPrefix(axes: readonly number[]): boolean {
  const sorted = axes.slice().sort((a, b) => a - b);
  return sorted.length > 0 && sorted.every((a, i) => a === i);
}

function broadcastGrad(kernelName: string, mean: boolean, upstream: tf.GradConfig): tf.GradConfig {
  const gradFunc: tf.GradConfig["gradFunc"] = (dy, saved, attrs) => {
    const [x] = saved;
    const grad = dy as tf.Tensor;
    if (!x || x.dtype !== "float32" || grad.dtype !== "float32") return upstream.gradFunc(dy, saved, attrs);
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    if (!leadingPrefix(axes)) return upstream.gradFunc(dy, saved, attrs);
    const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const reduced = axes.reduce((n, a) => n * (x.shape[a] ?? 1), 1);
    return {
      x: () => {
        const perOutput = tf.reshape(grad, expanded);
        return tf.broadcastTo(mean ? tf.div(perOutput, reduced) : perOutput, x.shape);
      },
    };
  };
  ours.add(gradFunc);
  return { kernelName, inputsToSave: upstream.inputsToSave ?? ["x"], gradFunc };
}

/** Idempotent: replaces tfjs's Sum and Mean gradients, keeping them for the cases above. */
export function registerReduceGradients(): void {
  for (const [kernelName, mean] of [
    [tf.Sum, false],
    [tf.Mean, true],
  ] as const) {
    const upstream = tf.getGradient(kernelName);
    if (!upstream || ours.has(upstream.gradFunc)) continue;
    tf.registerGradient(broadcastGrad(kernelName, mean, upstream));
  }
}
