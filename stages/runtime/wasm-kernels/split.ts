/**
 * SplitV for float32 as row-run copies on the heap. The wasm backend's SplitV slices each
 * piece with its Slice kernel, which first copies the whole input out of the heap: the
 * gradient of every U-Net skip concatenation paid that once per piece.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelCalls } from "./kernel-calls.js";

export function splitFloat32(backend: tf.KernelBackend, x: tf.TensorInfo, sizes: readonly number[], axis: number): tf.TensorInfo[] {
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const along = x.shape[axis] ?? 1;
  const calls = new KernelCalls(backend);
  try {
    const rows = calls.reshape(x, [outer, 1, along * inner]);
    let begin = 0;
    const pieces = sizes.map((size) => {
      const piece = calls.slice3d(rows, 0, 1, begin * inner, size * inner);
      begin += size;
      const shape = x.shape.slice();
      shape[axis] = size;
      return calls.keep(calls.reshape(piece, shape));
    });
    return pieces;
  } finally {
    calls.dispose();
  }
}
