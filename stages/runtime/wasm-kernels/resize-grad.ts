/**
 * ResizeNearestNeighborGrad for whole-number upscaling without corner alignment (the
 * U-Net decoder's 2x upsampling): every input pixel's gradient is the sum of its k x k
 * block of dy, a depthwise convolution with a ones filter and stride k (XNNPACK) instead
 * of the wasm backend's loop. Other geometries go to that loop.
 */
import * as tf from "@tensorflow/tfjs";
import { shape4, withCalls } from "./kernel-calls.js";

/** [kh, kw] when dy is images scaled up by whole numbers, else null. */
export function wholeScale(images: readonly number[], dy: readonly number[], alignCorners: boolean): [number, number] | null {
  if (alignCorners || images.length !== 4 || dy.length !== 4) return null;
  const [, h, w] = images as [number, number, number, number];
  const [, dh, dw] = dy as [number, number, number, number];
  if (h === 0 || w === 0 || dh % h !== 0 || dw % w !== 0) return null;
  return [dh / h, dw / w];
}

export function blockSumGrad(backend: tf.KernelBackend, dy: tf.TensorInfo, kh: number, kw: number): tf.TensorInfo {
  const [, , , channels] = shape4(dy);
  return withCalls(backend, (calls) => {
    const ones = calls.run(tf.Fill, {}, { shape: [kh, kw, channels, 1], value: 1, dtype: "float32" });
    return calls.run(tf.DepthwiseConv2dNative, { x: dy, filter: ones }, { strides: [kh, kw], pad: "valid", dilations: [1, 1] });
  });
}
