import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../stages/runtime/backend.js";
import { WASM_TRAINING_KERNELS, registerWasmTrainingKernels, wasmHasTrainingKernels } from "../../stages/runtime/wasm-kernels/register.js";
import { relativeError } from "./relative-error.js";

/** Deterministic random numbers (mulberry32), so a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const values = (r: Rand, n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Case {
  readonly label: string;
  readonly run: () => tf.Tensor;
}

interface Geometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly k: number;
  readonly stride: 1 | 2;
  readonly pad: "same" | "valid";
}

function geometry(r: Rand, i: number): Geometry {
  // The first cases pin the corners (7x9, both strides and paddings, 1x1 and 3x3); the rest are random.
  const k = i < 8 ? (i % 2 === 0 ? 3 : 1) : pick(r, [1, 3] as const);
  const stride = i < 8 ? ((i >> 1) % 2 === 0 ? 1 : 2) : pick(r, [1, 2] as const);
  const pad = i < 8 ? (i >> 2 === 0 ? "same" : "valid") : pick(r, ["same", "valid"] as const);
  const h = i < 8 ? 7 : int(r, k, 10);
  const w = i < 8 ? 9 : int(r, k, 10);
  return { n: int(r, 1, 3), h, w, cin: int(r, 1, 8), k, stride, pad };
}

/** Output spatial size of the forward convolution. */
function outSize(g: Geometry): [number, number] {
  const f = (s: number) => (g.pad === "same" ? Math.ceil(s / g.stride) : Math.ceil((s - g.k + 1) / g.stride));
  return [f(g.h), f(g.w)];
}

function conv2dCases(seed: number, count: number): Case[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const g = geometry(r, i);
    const cout = int(r, 1, 8);
    const [oh, ow] = outSize(g);
    const xShape: [number, number, number, number] = [g.n, g.h, g.w, g.cin];
    const fShape: [number, number, number, number] = [g.k, g.k, g.cin, cout];
    const dyShape: [number, number, number, number] = [g.n, oh, ow, cout];
    const [x, f, dy] = [values(r, size(xShape)), values(r, size(fShape)), values(r, size(dyShape))];
    const label = `conv2d x=${xShape} f=${fShape} s=${g.stride} ${g.pad}`;
    const attrs = { strides: [g.stride, g.stride], pad: g.pad, dataFormat: "NHWC" };
    return [
      {
        label: `${label} backprop filter`,
        run: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) }, { ...attrs, filterShape: fShape }) as tf.Tensor,
      },
      {
        label: `${label} backprop input`,
        run: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: tf.tensor4d(dy, dyShape), filter: tf.tensor4d(f, fShape) }, { ...attrs, inputShape: xShape }) as tf.Tensor,
      },
    ];
  }).flat();
}

function depthwiseCases(seed: number, count: number): Case[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const g = geometry(r, i);
    const multiplier = i < 8 ? 1 + (i % 2) : pick(r, [1, 2]);
    const [oh, ow] = outSize(g);
    const xShape: [number, number, number, number] = [g.n, g.h, g.w, g.cin];
    const fShape: [number, number, number, number] = [g.k, g.k, g.cin, multiplier];
    const dyShape: [number, number, number, number] = [g.n, oh, ow, g.cin * multiplier];
    const [x, f, dy] = [values(r, size(xShape)), values(r, size(fShape)), values(r, size(dyShape))];
    const label = `depthwise x=${xShape} f=${fShape} s=${g.stride} ${g.pad}`;
    const attrs = { strides: [g.stride, g.stride], pad: g.pad, dilations: [1, 1] };
    return [
      {
        label: `${label} backprop filter`,
        run: () => tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, dyShape) }, { ...attrs, filterShape: fShape }) as tf.Tensor,
      },
      {
        label: `${label} backprop input`,
        run: () => tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: tf.tensor4d(dy, dyShape), filter: tf.tensor4d(f, fShape) }, { ...attrs, inputShape: xShape }) as tf.Tensor,
      },
    ];
  }).flat();
}

interface Result {
  readonly shape: number[];
  readonly data: Float32Array;
}

function runAll(cases: readonly Case[]): Result[] {
  return cases.map((c) =>
    tf.tidy(() => {
      const out = c.run();
      return { shape: out.shape, data: out.dataSync() as Float32Array };
    }),
  );
}


async function compareWithCpu(cases: readonly Case[]): Promise<void> {
  await tf.setBackend("wasm");
  const idsBefore = tf.engine().backend.numDataIds();
  const tensorsBefore = tf.memory().numTensors;
  const onWasm = runAll(cases);
  // No temporary of the composed kernels stays behind in the wasm heap.
  expect(tf.engine().backend.numDataIds()).toBe(idsBefore);
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  await tf.setBackend("cpu");
  const onCpu = runAll(cases);
  await tf.setBackend("wasm");
  cases.forEach((c, i) => {
    const [w, p] = [onWasm[i] as Result, onCpu[i] as Result];
    expect(w.shape, c.label).toEqual(p.shape);
    expect(relativeError(w.data, p.data), c.label).toBeLessThan(1e-4);
  });
}

describe("wasm training kernels", () => {
  beforeAll(async () => {
    // initBackend registers the kernels; training on wasm is allowed because of them. On
    // threads: the heap is shared memory then, grown by one thread, read by all.
    const info = await initBackend("wasm", { purpose: "train", threads: 2 });
    expect(info).toMatchObject({ name: "wasm", threads: 2 });
  });

  it("initBackend registered them; registering again changes nothing", () => {
    expect(wasmHasTrainingKernels()).toBe(true);
    const before = WASM_TRAINING_KERNELS.map((name) => tf.getKernel(name, "wasm")?.kernelFunc);
    registerWasmTrainingKernels();
    expect(WASM_TRAINING_KERNELS.map((name) => tf.getKernel(name, "wasm")?.kernelFunc)).toEqual(before);
  });

  it("Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend", async () => {
    await compareWithCpu(conv2dCases(1, 40));
  });

  it("DepthwiseConv2dNative backprops (multipliers 1 and 2) match the cpu backend", async () => {
    await compareWithCpu(depthwiseCases(2, 40));
  });

  it("Tile matches the cpu backend, broadcasting leading axes or not", async () => {
    const r = rng(4);
    const cases: Case[] = [
      { shape: [1, 1, 1, 5], reps: [2, 7, 9, 1] },
      { shape: [1, 3], reps: [4, 1] },
      { shape: [1, 1, 6], reps: [3, 1, 1] },
      { shape: [2, 3], reps: [2, 2] }, // not a leading broadcast: upstream's kernel
      { shape: [1, 4], reps: [1, 1] },
    ].map(({ shape, reps }) => {
      const data = values(r, size(shape));
      return { label: `tile ${shape} by ${reps}`, run: () => tf.tile(tf.tensor(data, shape), reps) };
    });
    cases.push({ label: "int32 tile", run: () => tf.tile(tf.tensor([[1, 2]], [1, 2], "int32"), [3, 1]) });
    await compareWithCpu(cases);
  });

  it("Sum and Mean match the cpu backend, over leading axes or not", async () => {
    const r = rng(8);
    const shape = [2, 5, 7, 3];
    const data = values(r, size(shape));
    const x = () => tf.tensor(data, shape);
    const cases: Case[] = [
      { label: "sum [0,1,2]", run: () => tf.sum(x(), [0, 1, 2]) },
      { label: "sum [2,0,1] keepDims", run: () => tf.sum(x(), [2, 0, 1], true) },
      { label: "mean [0,1,2]", run: () => tf.mean(x(), [0, 1, 2]) },
      { label: "mean [0] keepDims", run: () => tf.mean(x(), 0, true) },
      { label: "sum -4 (axis 0)", run: () => tf.sum(x(), -4) },
      { label: "sum all (upstream)", run: () => tf.sum(x()) },
      { label: "sum [1,2] (upstream)", run: () => tf.sum(x(), [1, 2]) },
      { label: "mean [3] (upstream)", run: () => tf.mean(x(), 3) },
      { label: "int32 sum [0] (upstream)", run: () => tf.sum(tf.tensor([[1, 2], [3, 4]], [2, 2], "int32"), 0) },
    ];
    // Rows in 15 blocks of 240 averaged on XNNPACK; 257 rows (a prime) summed one by one.
    const blocks = [4, 30, 30, 3];
    const blocksData = values(r, size(blocks));
    const prime = values(r, 257 * 6);
    cases.push(
      { label: "sum [0,1,2] of 3600 rows", run: () => tf.sum(tf.tensor(blocksData, blocks), [0, 1, 2]) },
      { label: "mean [0,1,2] of 3600 rows", run: () => tf.mean(tf.tensor(blocksData, blocks), [0, 1, 2], true) },
      { label: "sum [0] of 257 rows", run: () => tf.sum(tf.tensor(prime, [257, 6]), 0) },
      { label: "mean [0] of 257 rows", run: () => tf.mean(tf.tensor(prime, [257, 2, 3]), 0) },
    );
    await compareWithCpu(cases);
  });

  it("SplitV matches the cpu backend on every axis", async () => {
    const r = rng(5);
    const shape = [2, 3, 5, 7];
    const data = values(r, size(shape));
    const cases: Case[] = [
      { axis: 3, sizes: [3, 4] },
      { axis: 2, sizes: [1, 2, 2] },
      { axis: 0, sizes: [1, 1] },
      { axis: 1, sizes: [3] },
    ].flatMap(({ axis, sizes }) =>
      sizes.map((_, piece) => ({ label: `split ${shape} axis ${axis} into ${sizes}, piece ${piece}`, run: () => tf.split(tf.tensor(data, shape), sizes, axis)[piece] as tf.Tensor })),
    );
    cases.push({ label: "int32 split", run: () => tf.split(tf.tensor([[1, 2, 3, 4]], [1, 4], "int32"), 2, 1)[1] as tf.Tensor });
    await compareWithCpu(cases);
  });

  it("ResizeNearestNeighborGrad sums each k x k block of dy (whole-number scales), else matches the cpu backend", async () => {
    const r = rng(6);
    const grad = (from: number[], to: number[], align: boolean, half: boolean, data: Float32Array) => () => {
      const [n, , , c] = from as [number, number, number, number];
      const dy = tf.tensor4d(data, [n, to[0] ?? 1, to[1] ?? 1, c]);
      return tf.engine().runKernel(tf.ResizeNearestNeighborGrad, { images: tf.zeros(from), dy }, { alignCorners: align, halfPixelCenters: half }) as tf.Tensor;
    };
    // Block sums, written out: the cpu backend's kernel is wrong for batch > 1 (tfjs 4.22).
    const blockSum = (from: number[], to: number[], data: Float32Array) => () => {
      const [n, h, w, c] = from as [number, number, number, number];
      const [kh, kw] = [(to[0] ?? 1) / h, (to[1] ?? 1) / w];
      return tf.tensor(data, [n, h, kh, w, kw, c]).sum([2, 4]);
    };
    const whole = [
      { from: [2, 3, 5, 4], to: [6, 10], half: false },
      { from: [3, 4, 4, 3], to: [8, 8], half: true },
      { from: [1, 3, 3, 2], to: [9, 6], half: false },
    ].map(({ from, to, half }) => ({ from, to, half, data: values(r, (from[0] ?? 1) * (to[0] ?? 1) * (to[1] ?? 1) * (from[3] ?? 1)) }));
    await tf.setBackend("wasm");
    const onWasm = runAll(whole.map((c) => ({ label: "", run: grad(c.from, c.to, false, c.half, c.data) })));
    await tf.setBackend("cpu");
    const expected = runAll(whole.map((c) => ({ label: "", run: blockSum(c.from, c.to, c.data) })));
    await tf.setBackend("wasm");
    whole.forEach((c, i) => expect(relativeError((onWasm[i] as Result).data, (expected[i] as Result).data), `${c.from} to ${c.to}`).toBeLessThan(1e-6));

    await compareWithCpu([
      { label: "not whole: upstream's kernel", run: grad([1, 3, 3, 2], [5, 7], false, false, values(r, 5 * 7 * 2)) },
      { label: "aligned corners: upstream's kernel", run: grad([1, 3, 3, 2], [6, 6], true, false, values(r, 6 * 6 * 2)) },
      { label: "batch 1 whole", run: grad([1, 3, 5, 4], [6, 10], false, false, values(r, 6 * 10 * 4)) },
    ]);
  });

  it("Identity (tf.clone, and every tensor the gradient tape saves) shares the data; either tensor outlives the other", async () => {
    await tf.setBackend("wasm");
    const ids = () => tf.engine().backend.numDataIds();
    for (const [values, dtype] of [[[1.5, -2, 3, 4], "float32"], [[1, -2, 3, 4], "int32"], [[1, 0, 1, 1], "bool"]] as const) {
      const x = tf.tensor(values as unknown as number[], [2, 2], dtype);
      const before = ids();
      const y = tf.clone(x);
      expect(ids()).toBe(before);
      x.dispose();
      expect(Array.from(y.dataSync()), dtype).toEqual(values);
      expect(y.dtype).toBe(dtype);
      y.dispose();
      expect(ids()).toBe(before - 1);
    }
  });

  it("Sum and Mean gradients over leading axes broadcast dy (same values as dy * ones); other axes keep tfjs's", async () => {
    await tf.setBackend("wasm");
    const shape = [2, 3, 4, 5];
    const weights = values(rng(10), 3 * 4 * 5);
    const w = () => tf.tensor(weights, [3, 4, 5]);
    const ids = tf.engine().backend.numDataIds();
    const grads = tf.tidy(() => {
      const x = tf.zeros(shape);
      const of = (f: (x: tf.Tensor) => tf.Tensor) => tf.grad((v: tf.Tensor) => f(v).sum())(x).dataSync() as Float32Array;
      return {
        sum: of((v) => tf.sum(v, [0]).mul(w())),
        mean: of((v) => tf.mean(v, [1, 0], true).mul(w().slice([0, 0, 0], [1, 4, 5]))),
        meanAll: of((v) => tf.mean(v).mul(3)),
        other: of((v) => tf.sum(v, [1, 2]).mul(tf.tensor([1, 2, 3, 4, 5]))),
      };
    });
    expect(tf.engine().backend.numDataIds()).toBe(ids);
    const at = (i: number) => [Math.floor(i / 60), Math.floor(i / 20) % 3, Math.floor(i / 5) % 4, i % 5] as const;
    grads.sum.forEach((g, i) => expect(g).toBe(weights[i % 60]));
    grads.mean.forEach((g, i) => expect(g).toBeCloseTo((weights[i % 20] ?? NaN) / 6, 6));
    grads.meanAll.forEach((g) => expect(g).toBeCloseTo(3 / 120, 7));
    grads.other.forEach((g, i) => expect(g).toBe(at(i)[3] + 1));

    // No full-size ones multiplied in (tfjs's gradient): one Tile of dy / n.
    const profile = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.mean(v, [0, 1, 2]).sum())(tf.zeros(shape)));
    const fullSize = profile.kernels.filter((k) => k.outputShapes.some((s) => s?.join() === shape.join())).map((k) => k.name);
    expect(fullSize).toEqual(expect.arrayContaining(["Tile"]));
    expect(fullSize).not.toContain("Multiply");
  });

  it("kernels reading the heap directly stay right after it grows (shared memory on threads)", async () => {
    await tf.setBackend("wasm");
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
    const shape = [2, 6, 5, 4];
    const data = values(rng(9), size(shape));
    const early = tf.tensor(data, shape); // placed before the heap grows
    const before = heap().byteLength;
    const big = tf.zeros([before / 4 + 1]); // more than the whole heap: it has to grow
    expect(heap().byteLength).toBeGreaterThan(before);
    expect(heap()).toBeInstanceOf(SharedArrayBuffer);
    const ops = (x: tf.Tensor) => [tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1]), ...tf.split(x, [2, 3], 2), tf.tile(tf.slice(x, [0, 0, 0, 0], [1, 1, 1, 4]), [2, 3, 1, 1])];
    const onWasm = tf.tidy(() => ops(early).map((t) => t.dataSync() as Float32Array));
    tf.dispose([early, big]);
    await tf.setBackend("cpu");
    const onCpu = tf.tidy(() => ops(tf.tensor(data, shape)).map((t) => t.dataSync() as Float32Array));
    await tf.setBackend("wasm");
    onCpu.forEach((expected, i) => expect(relativeError(onWasm[i] as Float32Array, expected), `op ${i}`).toBeLessThan(1e-6));
  });

  it("tf.grads of a conv -> depthwise -> conv -> conv net match the cpu backend", async () => {
    const r = rng(3);
    const shapes: [number, number, number, number][] = [
      [3, 3, 3, 4], // conv 3x3 stride 2
      [3, 3, 4, 2], // depthwise 3x3 stride 2, multiplier 2
      [3, 3, 8, 5], // conv 3x3 stride 1: its input gradient flows back
      [1, 1, 5, 2], // conv 1x1
    ];
    const x = values(r, 2 * 17 * 13 * 3);
    const weights = shapes.map((s) => values(r, size(s)));
    const grads = () =>
      tf.tidy(() => {
        const input = tf.tensor4d(x, [2, 17, 13, 3]);
        const net = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
          const h1 = tf.relu6(tf.conv2d(input, a as tf.Tensor4D, 2, "same"));
          const h2 = tf.relu6(tf.depthwiseConv2d(h1, b as tf.Tensor4D, 2, "same"));
          const h3 = tf.relu6(tf.conv2d(h2, c as tf.Tensor4D, 1, "same"));
          return tf.conv2d(h3, d as tf.Tensor4D, 1, "valid").square().sum();
        };
        const gs = tf.grads(net)(weights.map((w, i) => tf.tensor4d(w, shapes[i])));
        return gs.map((g) => g.dataSync() as Float32Array);
      });
    await tf.setBackend("wasm");
    const onWasm = grads();
    await tf.setBackend("cpu");
    const onCpu = grads();
    await tf.setBackend("wasm");
    expect(onCpu).toHaveLength(4);
    onCpu.forEach((g, i) => expect(relativeError(onWasm[i] as Float32Array, g), `gradient ${i}`).toBeLessThan(1e-4));
  });
});
