/**
 * Tile where it only broadcasts leading size-1 axes ([1, 1, 1, C] to [N, H, W, C], as the
 * batch-norm gradient asks on every layer): ones[R, 1] . x[1, K] on XNNPACK, exact (x * 1),
 * instead of the wasm backend's element-by-element loop (about 20x slower). Other tilings
 * go to that loop.
 */
import * as tf from "@tensorflow/tfjs";
import { withCalls } from "./kernel-calls.js";

/** [rows, columns] of the broadcast, or null when the tiling is not a leading broadcast. */
export function leadingBroadcast(shape: readonly number[], reps: readonly number[]): [number, number] | null {
  if (reps.length !== shape.length) return null;
  let rows = 1;
  let i = 0;
  for (; i < shape.length && (reps[i] ?? 1) !== 1; i++) {
    if (shape[i] !== 1) return null;
    rows *= reps[i] ?? 1;
  }
  let columns = 1;
  for (; i < shape.length; i++) {
    if (reps[i] !== 1) return null;
    columns *= shape[i] ?? 1;
  }
  return rows > 1 ? [rows, columns] : null;
}

export function broadcastTile(backend: tf.KernelBackend, x: tf.TensorInfo, reps: readonly number[], rows: number, columns: number): tf.TensorInfo {
  return withCalls(backend, (calls) => {
    const ones = calls.run(tf.Fill, {}, { shape: [rows, 1], value: 1, dtype: "float32" });
    const product = calls.run(tf.BatchMatMul, { a: ones, b: calls.reshape(x, [1, columns]) }, { transposeA: false, transposeB: false });
    return calls.reshape(product, x.shape.map((d, i) => d * (reps[i] ?? 1)));
  });
}
