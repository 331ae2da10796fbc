/**
 * Sum and Mean over leading axes ([N, H, W, C] to [C], as every batch-norm gradient asks).
 * The wasm backend's own kernels first transpose the whole tensor so the reduced axes come
 * last. Here the rows are cut into blocks of up to MAX_POOL rows whose means XNNPACK's average
 * pooling computes (SIMD, on the backend's threads), and the block means are summed in
 * float64. Other reductions go to the backend's kernels.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmHeap, withCalls } from "./kernel-calls.js";

/** Rows averaged in float32 per block; the blocks are then summed in float64. */
const MAX_POOL = 256;

/** How many leading axes `axis` reduces, or null when it is not a proper leading prefix. */
export function leadingAxes(axis: number | number[] | undefined, shape: readonly number[]): number | null {
  if (axis === undefined || shape.length < 2) return null;
  const axes = tf.util.parseAxisParam(axis, shape as number[]).slice().sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length || axes.some((a, i) => a !== i)) return null;
  return axes.length;
}

/** The largest divisor of `rows` up to MAX_POOL (1 when `rows` has none but itself: a plain sum then). */
export function blockRows(rows: number): number {
  for (let pool = Math.min(MAX_POOL, rows); pool > 1; pool--) if (rows % pool === 0) return pool;
  return 1;
}

export function reduceLeading(backend: tf.KernelBackend, x: tf.TensorInfo, leading: number, keepDims: boolean, mean: boolean): tf.TensorInfo {
  const rows = x.shape.slice(0, leading).reduce((a, b) => a * b, 1);
  const trailing = x.shape.slice(leading);
  const columns = trailing.reduce((a, b) => a * b, 1);
  const pool = blockRows(rows);
  const blocks = rows / pool;
  return withCalls(backend, (calls) => {
    // [blocks, pool, 1, columns] -> the mean of each block: [blocks, 1, 1, columns].
    const partial = pool === 1 ? x : calls.run(tf.AvgPool, { x: calls.reshape(x, [blocks, pool, 1, columns]) }, { filterSize: [pool, 1], strides: [pool, 1], pad: "valid" });
    const heap = wasmHeap(backend);
    const out = heap.makeOutput(keepDims ? [...x.shape.slice(0, leading).map(() => 1), ...trailing] : trailing, "float32");
    // Views after makeOutput: allocating may grow the heap.
    const from = heap.typedArrayFromHeap(partial);
    const to = heap.typedArrayFromHeap(out);
    const acc = new Float64Array(columns);
    for (let b = 0, at = 0; b < blocks; b++) {
      for (let c = 0; c < columns; c++, at++) acc[c] = (acc[c] as number) + (from[at] as number);
    }
    // A block mean times its rows is its sum; the mean of all rows is the mean of the block means.
    const scale = mean ? 1 / blocks : pool;
    for (let c = 0; c < columns; c++) to[c] = (acc[c] as number) * scale;
    return out;
  });
}
