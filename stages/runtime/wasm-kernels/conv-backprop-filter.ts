/**
 * Filter gradients of Conv2D (a matrix product per filter tap on XNNPACK) and
 * DepthwiseConv2dNative (per tap, an elementwise product summed along positions).
 */
import * as tf from "@tensorflow/tfjs";
import { shape4, withCalls, type KernelCalls } from "./kernel-calls.js";

type Conv2DInfo = tf.backend_util.Conv2DInfo;

export function backpropFilterInfo(attrs: tf.NamedAttrMap, xShape: number[], depthwise: boolean): Conv2DInfo {
  const dilations = (attrs.dilations ?? 1) as number | [number, number];
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    attrs.filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    dilations,
    attrs.pad as "valid" | "same" | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    depthwise,
  );
}

/**
 * x padded (or cropped) to the rows and columns the filter taps read, rounded up to a
 * multiple of the stride.
 */
function paddedInput(calls: KernelCalls, x: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const rows = Math.ceil(((outHeight - 1) * sh + fh) / sh) * sh;
  const cols = Math.ceil(((outWidth - 1) * sw + fw) / sw) * sw;
  return calls.padSpatial(x, top, rows - inHeight - top, left, cols - inWidth - left);
}

/**
 * Both filter gradients without im2col. On the padded input grid (Hp x Wp per image,
 * flattened with the batch to q), tap (a, b) of output position q reads input q + off,
 * off = a * Wp + b. With dy spread onto the same grid (dilated by the stride, zeros
 * elsewhere), dW[a, b] = sum over q < L of x[q + off] * dyGrid[q]: for every tap one
 * contiguous slice of the channel-major input, against the same dyGrid.
 */
interface Grid {
  /** Padded input, channel-major: [inChannels, batch * Hp * Wp]. */
  readonly channelMajor: tf.TensorInfo;
  /** dy on the grid, first `length` positions: [length, outChannels]. */
  readonly dyGrid: tf.TensorInfo;
  readonly length: number;
  /** Offset of each tap, row-major over (a, b). */
  readonly offsets: number[];
}

function onGrid(calls: KernelCalls, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo): Grid {
  const { filterHeight: fh, filterWidth: fw, inChannels, outChannels, batchSize, strideHeight: sh, strideWidth: sw, outHeight, outWidth } = info;
  const padded = paddedInput(calls, x, info);
  const [, hp, wp] = shape4(padded);
  const grid = batchSize * hp * wp;
  const length = grid - (fh - 1) * wp - (fw - 1);
  const channelMajor = calls.reshape(calls.run(tf.Transpose, { x: padded }, { perm: [3, 0, 1, 2] }), [inChannels, grid]);
  const spread = calls.padSpatial(calls.dilateSpatial(dy, sh, sw), 0, hp - outHeight * sh, 0, wp - outWidth * sw);
  const dyGrid = calls.reshape(calls.slice3d(calls.reshape(spread, [1, grid, outChannels]), 0, length, 0, outChannels), [length, outChannels]);
  const offsets: number[] = [];
  for (let a = 0; a < fh; a++) for (let b = 0; b < fw; b++) offsets.push(a * wp + b);
  return { channelMajor, dyGrid, length, offsets };
}

/** Input values tap `offset` reads at each grid position: [inChannels, length]. */
function tapView(calls: KernelCalls, g: Grid, offset: number): tf.TensorInfo {
  const [channels, grid] = g.channelMajor.shape as [number, number];
  if (offset === 0 && g.length === grid) return g.channelMajor;
  return calls.reshape(calls.slice3d(calls.reshape(g.channelMajor, [channels, 1, grid]), 0, 1, offset, g.length), [channels, g.length]);
}

/**
 * Conv2DBackpropFilter for NHWC, dilation 1: per tap x_view . dyGrid on XNNPACK, which packs
 * dyGrid once for all taps (untransposed operands: the only case the wasm BatchMatMul hands
 * to XNNPACK).
 */
export function conv2dBackpropFilter(backend: tf.KernelBackend, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const { filterHeight: fh, filterWidth: fw, inChannels, outChannels } = info;
  return withCalls(backend, (calls) => {
    const g = onGrid(calls, x, dy, info);
    const taps = g.offsets.map((offset) => calls.run(tf.BatchMatMul, { a: tapView(calls, g, offset), b: g.dyGrid }, { transposeA: false, transposeB: false }));
    const stacked = taps.length === 1 ? (taps[0] as tf.TensorInfo) : calls.run(tf.Concat, taps, { axis: 0 });
    return calls.reshape(stacked, [fh, fw, inChannels, outChannels]);
  });
}

/** DepthwiseConv2dNativeBackpropFilter for NHWC, dilation 1, any channel multiplier: per tap x_view * dyGrid^T summed along the grid. */
export function depthwiseBackpropFilter(backend: tf.KernelBackend, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const { filterHeight: fh, filterWidth: fw, inChannels, outChannels } = info;
  const multiplier = outChannels / inChannels;
  return withCalls(backend, (calls) => {
    const g = onGrid(calls, x, dy, info);
    const dyT = calls.reshape(calls.run(tf.Transpose, { x: g.dyGrid }, { perm: [1, 0] }), [inChannels, multiplier, g.length]);
    const taps = g.offsets.map((offset) => {
      const view = calls.reshape(tapView(calls, g, offset), [inChannels, 1, g.length]);
      const product = calls.run(tf.Multiply, { a: view, b: dyT });
      return calls.run(tf.Sum, { x: product }, { axis: [2], keepDims: false });
    });
    const stacked = taps.length === 1 ? (taps[0] as tf.TensorInfo) : calls.run(tf.Concat, taps, { axis: 0 });
    return calls.reshape(stacked, [fh, fw, inChannels, multiplier]);
  });
}
