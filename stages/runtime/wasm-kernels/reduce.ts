/**
 * Sum and Mean over leading axes ([N, H, W, C] to [C], as every batch-norm gradient asks),
 * accumulated in float64 in one pass over the heap. The wasm backend first transposes the
 * whole tensor so the reduced axes come last. Other reductions go to its kernels.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmHeap } from "./kernel-calls.js";

/** How many leading axes `axis` reduces, or null when it is not a proper leading prefix. */
export function leadingAxes(axis: number | number[] | undefined, shape: readonly number[]): number | null {
  if (axis === undefined || shape.length < 2) return null;
  const axes = tf.util.parseAxisParam(axis, shape as number[]).slice().sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length || axes.some((a, i) => a !== i)) return null;
  return axes.length;
}

export function reduceLeading(backend: tf.KernelBackend, x: tf.TensorInfo, leading: number, keepDims: boolean, mean: boolean): tf.TensorInfo {
  const rows = x.shape.slice(0, leading).reduce((a, b) => a * b, 1);
  const trailing = x.shape.slice(leading);
  const columns = trailing.reduce((a, b) => a * b, 1);
  const heap = wasmHeap(backend);
  const out = heap.makeOutput(keepDims ? [...x.shape.slice(0, leading).map(() => 1), ...trailing] : trailing, "float32");
  const from = heap.typedArrayFromHeap(x);
  const to = heap.typedArrayFromHeap(out);
  const acc = new Float64Array(columns);
  for (let r = 0, at = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++, at++) acc[c] = (acc[c] as number) + (from[at] as number);
  }
  const scale = mean && rows > 0 ? 1 / rows : 1;
  for (let c = 0; c < columns; c++) to[c] = (acc[c] as number) * scale;
  return out;
}
