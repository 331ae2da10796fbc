/**
 * Input gradients of Conv2D and DepthwiseConv2dNative as forward convolutions (XNNPACK):
 * dx = valid convolution of dy, dilated by the stride and padded, with the filter flipped
 * in space (and, for Conv2D, with in and out channels swapped).
 */
import * as tf from "@tensorflow/tfjs";
import { shape4, withCalls, type KernelCalls } from "./kernel-calls.js";

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** dy dilated by the stride and padded so a valid stride-1 convolution yields inHeight x inWidth. */
function spreadDy(calls: KernelCalls, dy: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, inHeight, inWidth, outHeight, outWidth } = info;
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  // Rows needed: inHeight + fh - 1; the dilated dy holds outHeight * sh of them (the last sh - 1 zero).
  const bottom = inHeight + fh - 1 - top - outHeight * sh;
  const right = inWidth + fw - 1 - left - outWidth * sw;
  const dilated = calls.dilateSpatial(dy, sh, sw);
  return calls.padSpatial(dilated, top, bottom, left, right);
}

export function conv2dBackpropInputInfo(attrs: tf.NamedAttrMap, filterShape: number[], depthwise: boolean): Conv2DInfo {
  const inputShape = attrs.inputShape as [number, number, number, number];
  const dilations = (attrs.dilations ?? 1) as number | [number, number];
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    dilations,
    attrs.pad as "valid" | "same" | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    depthwise,
  );
}

/** Conv2DBackpropInput for NHWC, dilation 1. */
export function conv2dBackpropInput(backend: tf.KernelBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  return withCalls(backend, (calls) => {
    const spread = spreadDy(calls, dy, info);
    const flipped = calls.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
    const swapped = calls.run(tf.Transpose, { x: flipped }, { perm: [0, 1, 3, 2] });
    return calls.run(tf.Conv2D, { x: spread, filter: swapped }, { strides: [1, 1], pad: "valid", dilations: [1, 1], dataFormat: "NHWC" });
  });
}

/** DepthwiseConv2dNativeBackpropInput for NHWC, dilation 1, any channel multiplier. */
export function depthwiseBackpropInput(backend: tf.KernelBackend, dy: tf.TensorInfo, filter: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const [fh, fw, channels, multiplier] = shape4(filter);
  return withCalls(backend, (calls) => {
    const spread = spreadDy(calls, dy, info);
    const flipped = calls.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
    // Each of the channels * multiplier dy channels convolves with its own filter slice.
    const perOutput = calls.reshape(flipped, [fh, fw, channels * multiplier, 1]);
    const dx = calls.run(tf.DepthwiseConv2dNative, { x: spread, filter: perOutput }, { strides: [1, 1], pad: "valid", dilations: [1, 1] });
    if (multiplier === 1) return dx;
    const [n, h, w] = shape4(dx);
    const grouped = calls.reshape(dx, [n, h, w, channels, multiplier]);
    return calls.run(tf.Sum, { x: grouped }, { axis: [4], keepDims: false });
  });
}
