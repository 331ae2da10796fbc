/**
 * Registers the gradient kernels the WASM backend lacks for training (Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput and -Filter) and replaces slow ones a MU-Net training
 * step spends time in (Conv2DBackpropInput, Tile, SplitV, ResizeNearestNeighborGrad, Sum and
 * Mean over leading axes, and Identity, which shares instead of copying), all as
 * compositions of its fast (XNNPACK) kernels plus heap copies. The replacements keep the
 * upstream kernel for the cases they do not cover. Importing this module loads the WASM
 * backend package first, so its own registrations cannot later overwrite ours.
 */
import "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs";
import { backpropFilterInfo, conv2dBackpropFilter, depthwiseBackpropFilter } from "./conv-backprop-filter.js";
import { conv2dBackpropInput, conv2dBackpropInputInfo, depthwiseBackpropInput } from "./conv-backprop-input.js";
import { registerReduceGradients } from "./reduce-grads.js";
import { leadingAxes, reduceLeading } from "./reduce.js";
import { blockSumGrad, wholeScale } from "./resize-grad.js";
import { splitFloat32 } from "./split.js";
import { broadcastTile, leadingBroadcast } from "./tile.js";

/** The kernels `registerWasmTrainingKernels` registers; training on wasm needs the last three. */
export const WASM_TRAINING_KERNELS = [
  tf.Identity,
  tf.Sum,
  tf.Mean,
  tf.ResizeNearestNeighborGrad,
  tf.Tile,
  tf.SplitV,
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
] as const;

const ours = new Set<tf.KernelFunc>();
/** Upstream's kernels that ours replace, for the cases ours leave to them. */
const upstream = new Map<string, tf.KernelFunc>();

function fallback(kernelName: string, params: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const kernelFunc = upstream.get(kernelName);
  if (!kernelFunc) throw new Error(`${kernelName} on wasm: no kernel for this case`);
  return kernelFunc(params);
}

function input(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const info = inputs[name];
  if (!info) throw new Error(`missing kernel input ${name}`);
  return info;
}

function isNhwc(attrs: tf.NamedAttrMap): boolean {
  return attrs.dataFormat === undefined || attrs.dataFormat === "NHWC" || attrs.dataFormat === "channelsLast";
}

function requireUnitDilation(info: tf.backend_util.Conv2DInfo, kernel: string): void {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(`${kernel} on wasm supports dilation 1 only, got [${info.dilationHeight}, ${info.dilationWidth}]`);
  }
}

function requireNhwc(attrs: tf.NamedAttrMap, kernel: string): void {
  if (!isNhwc(attrs)) throw new Error(`${kernel} on wasm supports NHWC only, got ${String(attrs.dataFormat)}`);
}

const conv2dBackpropInputKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const dy = input(inputs, "dy");
  const filter = input(inputs, "filter");
  const info = isNhwc(attrs) ? conv2dBackpropInputInfo(attrs, filter.shape, false) : null;
  if (!info || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    // Layouts the XNNPACK formulation does not cover go to the upstream loop.
    return fallback(tf.Conv2DBackpropInput, { inputs, backend, attrs });
  }
  return conv2dBackpropInput(backend as tf.KernelBackend, dy, filter, info);
};

const conv2dBackpropFilterKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const x = input(inputs, "x");
  requireNhwc(attrs, tf.Conv2DBackpropFilter);
  const info = backpropFilterInfo(attrs, x.shape, false);
  requireUnitDilation(info, tf.Conv2DBackpropFilter);
  return conv2dBackpropFilter(backend as tf.KernelBackend, x, input(inputs, "dy"), info);
};

const depthwiseBackpropInputKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const filter = input(inputs, "filter");
  const info = conv2dBackpropInputInfo(attrs, filter.shape, true);
  requireUnitDilation(info, tf.DepthwiseConv2dNativeBackpropInput);
  return depthwiseBackpropInput(backend as tf.KernelBackend, input(inputs, "dy"), filter, info);
};

const depthwiseBackpropFilterKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const x = input(inputs, "x");
  const info = backpropFilterInfo(attrs, x.shape, true);
  requireUnitDilation(info, tf.DepthwiseConv2dNativeBackpropFilter);
  return depthwiseBackpropFilter(backend as tf.KernelBackend, x, input(inputs, "dy"), info);
};

const tileKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const x = input(inputs, "x");
  const reps = attrs.reps as number[];
  const broadcast = x.dtype === "float32" ? leadingBroadcast(x.shape, reps) : null;
  if (!broadcast) return fallback(tf.Tile, { inputs, backend, attrs });
  return broadcastTile(backend as tf.KernelBackend, x, reps, ...broadcast);
};

const splitKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const x = input(inputs, "x");
  if (x.dtype !== "float32") return fallback(tf.SplitV, { inputs, backend, attrs });
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0] ?? 0;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis);
  return splitFloat32(backend as tf.KernelBackend, x, sizes, axis);
};

const resizeGradKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const images = input(inputs, "images");
  const dy = input(inputs, "dy");
  const scale = dy.dtype === "float32" ? wholeScale(images.shape, dy.shape, attrs.alignCorners === true) : null;
  if (!scale) return fallback(tf.ResizeNearestNeighborGrad, { inputs, backend, attrs });
  return blockSumGrad(backend as tf.KernelBackend, dy, ...scale);
};

/**
 * Identity shares the input's data (one more reference), as the cpu and webgl backends do; the
 * wasm backend's copies it, and the gradient tape clones every tensor it saves for the backward
 * pass (about 5% of a MU-Net training step, and a second copy of every saved activation).
 * Kernels never write into their inputs, so sharing is safe.
 */
const identityKernel: tf.KernelFunc = ({ inputs, backend, attrs = {} }) => {
  const x = input(inputs, "x");
  if (x.dtype === "string") return fallback(tf.Identity, { inputs, backend, attrs });
  (backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

function reduceKernel(kernelName: string, mean: boolean): tf.KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const x = input(inputs, "x");
    const leading = x.dtype === "float32" ? leadingAxes(attrs.axis as number | number[], x.shape) : null;
    if (leading === null) return fallback(kernelName, { inputs, backend, attrs });
    return reduceLeading(backend as tf.KernelBackend, x, leading, attrs.keepDims === true, mean);
  };
}

const KERNELS: Record<(typeof WASM_TRAINING_KERNELS)[number], tf.KernelFunc> = {
  [tf.Identity]: identityKernel,
  [tf.Sum]: reduceKernel(tf.Sum, false),
  [tf.Mean]: reduceKernel(tf.Mean, true),
  [tf.ResizeNearestNeighborGrad]: resizeGradKernel,
  [tf.Tile]: tileKernel,
  [tf.SplitV]: splitKernel,
  [tf.Conv2DBackpropInput]: conv2dBackpropInputKernel,
  [tf.Conv2DBackpropFilter]: conv2dBackpropFilterKernel,
  [tf.DepthwiseConv2dNativeBackpropInput]: depthwiseBackpropInputKernel,
  [tf.DepthwiseConv2dNativeBackpropFilter]: depthwiseBackpropFilterKernel,
};

/**
 * Idempotent. Replaces existing registrations for "wasm" (upstream's Identity, Sum, Mean,
 * ResizeNearestNeighborGrad, Tile, SplitV and Conv2DBackpropInput), keeping them for the cases
 * ours leave, and the Sum and Mean gradients over leading axes (reduce-grads.ts).
 */
export function registerWasmTrainingKernels(): void {
  registerReduceGradients();
  for (const kernelName of WASM_TRAINING_KERNELS) {
    const kernelFunc = KERNELS[kernelName];
    const existing = tf.getKernel(kernelName, "wasm");
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing) {
      upstream.set(kernelName, existing.kernelFunc);
      tf.unregisterKernel(kernelName, "wasm");
    }
    ours.add(kernelFunc);
    // Keep upstream's setup (its wasm function binding), which the fallback path needs.
    const setupFunc = existing?.setupFunc;
    tf.registerKernel(setupFunc ? { kernelName, backendName: "wasm", kernelFunc, setupFunc } : { kernelName, backendName: "wasm", kernelFunc });
  }
}

/** Whether every kernel training needs is registered for wasm (ours or another's). */
export function wasmHasTrainingKernels(): boolean {
  return WASM_TRAINING_KERNELS.every((name) => tf.getKernel(name, "wasm") !== undefined);
}
