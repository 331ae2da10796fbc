/**
 * Runs other WASM kernels from inside a kernel, on TensorInfos, the way the backend's own
 * kernels compose: no engine tensors, no tape, intermediates freed through the backend.
 */
import * as tf from "@tensorflow/tfjs";

type Attrs = tf.NamedAttrMap;

/** What the wasm backend offers kernels beyond KernelBackend: outputs and views of its heap. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

export function wasmHeap(backend: tf.KernelBackend): WasmHeap {
  const candidate = backend as unknown as Partial<WasmHeap>;
  if (typeof candidate.makeOutput !== "function" || typeof candidate.typedArrayFromHeap !== "function") {
    throw new Error("wasm training kernels need the wasm backend");
  }
  return candidate as WasmHeap;
}
type Inputs = tf.NamedTensorInfoMap | tf.TensorInfo[];

export class KernelCalls {
  private readonly temps: tf.TensorInfo[] = [];

  constructor(private readonly backend: tf.KernelBackend) {}

  /** Runs the registered wasm kernel `name`; the result is freed by `dispose` unless kept. */
  run(name: string, inputs: Inputs, attrs: Attrs = {}): tf.TensorInfo {
    const kernel = tf.getKernel(name, "wasm");
    if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned ${out.length} outputs, expected one`);
    this.temps.push(out);
    return out;
  }

  /** Uploads values into the wasm heap as a temporary. */
  constant(values: Float32Array, shape: number[]): tf.TensorInfo {
    const info: tf.TensorInfo = { dataId: this.backend.write(values, shape, "float32"), shape, dtype: "float32" };
    this.temps.push(info);
    return info;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run(tf.Reshape, { x }, { shape });
  }

  /** Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. */
  padSpatial(x: tf.TensorInfo, top: number, bottom: number, left: number, right: number): tf.TensorInfo {
    const [n, h, w, c] = shape4(x);
    let out = x;
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      const cropT = Math.max(0, -top);
      const cropL = Math.max(0, -left);
      const size = [n, h - cropT - Math.max(0, -bottom), w - cropL - Math.max(0, -right), c];
      out = this.run(tf.Slice, { x: out }, { begin: [0, cropT, cropL, 0], size });
    }
    const [t, b, l, r] = [top, bottom, left, right].map((p) => Math.max(0, p)) as [number, number, number, number];
    if (t + b + l + r > 0) {
      out = this.run(tf.PadV2, { x: out }, { paddings: [[0, 0], [t, b], [l, r], [0, 0]], constantValue: 0 });
    }
    return out;
  }

  /** Inserts stride-1 zeros after every row and column (the result keeps the trailing zeros). */
  dilateSpatial(x: tf.TensorInfo, strideH: number, strideW: number): tf.TensorInfo {
    if (strideH === 1 && strideW === 1) return x;
    const [n, h, w, c] = shape4(x);
    const six = this.reshape(x, [n, h, 1, w, 1, c]);
    const padded = this.run(tf.PadV2, { x: six }, { paddings: [[0, 0], [0, 0], [0, strideH - 1], [0, 0], [0, strideW - 1], [0, 0]], constantValue: 0 });
    return this.reshape(padded, [n, h * strideH, w * strideW, c]);
  }

  /**
   * x[:, b0 : b0 + bSize, c0 : c0 + cSize] of a float32 [A, B, C] tensor, copied run by run
   * on the heap (the wasm Slice kernel first copies its whole input out of the heap).
   */
  slice3d(x: tf.TensorInfo, b0: number, bSize: number, c0: number, cSize: number): tf.TensorInfo {
    const [depth, rows, cols] = x.shape as [number, number, number];
    if (x.shape.length !== 3 || x.dtype !== "float32" || b0 < 0 || b0 + bSize > rows || c0 < 0 || c0 + cSize > cols) {
      throw new Error(`slice3d [${b0}+${bSize}, ${c0}+${cSize}] of [${x.shape.join(", ")}] ${x.dtype}`);
    }
    const heap = wasmHeap(this.backend);
    const out = heap.makeOutput([depth, bSize, cSize], "float32");
    this.temps.push(out);
    // Views after makeOutput: allocating may grow (and detach) the heap.
    const from = heap.typedArrayFromHeap(x);
    const to = heap.typedArrayFromHeap(out);
    let at = 0;
    for (let d = 0; d < depth; d++) {
      for (let r = b0; r < b0 + bSize; r++) {
        const start = (d * rows + r) * cols + c0;
        to.set(from.subarray(start, start + cSize), at);
        at += cSize;
      }
    }
    return out;
  }

  /** The result leaves the temporaries, so `dispose` does not free it. */
  keep(info: tf.TensorInfo): tf.TensorInfo {
    const at = this.temps.lastIndexOf(info);
    if (at >= 0) this.temps.splice(at, 1);
    return info;
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

/** Runs `body` with a KernelCalls whose temporaries are freed afterwards; returns the kept result. */
export function withCalls(backend: tf.KernelBackend, body: (calls: KernelCalls) => tf.TensorInfo): tf.TensorInfo {
  const calls = new KernelCalls(backend);
  try {
    return calls.keep(body(calls));
  } finally {
    calls.dispose();
  }
}

export function shape4(x: tf.TensorInfo): [number, number, number, number] {
  const s = x.shape;
  if (s.length !== 4) throw new Error(`expected a rank-4 tensor, got shape [${s.join(", ")}]`);
  return s as [number, number, number, number];
}
