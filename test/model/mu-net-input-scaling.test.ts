import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";

import { scaleImages, type InputScaling } from "../../stages/model/input-scaling.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const PIXELS = [0, 51, 127.5, 255];

describe("scaleImages", () => {
  it("maps 0..255 to [-1, 1] for imagenet and [0, 1] for unit", () => {
    const images = tf.tensor4d(PIXELS, [1, 1, 4, 1]);
    const imagenet = scaleImages(images, "imagenet");
    const unit = scaleImages(images, "unit");
    expect(imagenet.dtype).toBe("float32");
    expect(imagenet.shape).toEqual([1, 1, 4, 1]);
    expectClose(imagenet.dataSync(), [-1, -0.6, 0, 1]);
    expectClose(unit.dataSync(), [0, 0.2, 0.5, 1]);
    tf.dispose([images, imagenet, unit]);
  });

  it("accepts integer pixels and returns float32 without leaking", () => {
    const images = tf.tensor4d(Int32Array.from([0, 51, 255]), [1, 1, 1, 3], "int32");
    const before = tf.memory().numTensors;
    const scaled = scaleImages(images, "unit");
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(scaled.dtype).toBe("float32");
    expectClose(scaled.dataSync(), [0, 0.2, 1]);
    expect(images.isDisposed).toBe(false);
    tf.dispose([images, scaled]);
  });

  it("rejects a single image and an unknown scaling", () => {
    const image = tf.zeros([4, 4, 3]);
    const batch = tf.zeros([1, 4, 4, 3]);
    expect(() => scaleImages(image, "unit")).toThrow("got shape [4, 4, 3]");
    expect(() => scaleImages(batch, "caffe" as InputScaling)).toThrow('input scaling must be one of imagenet, unit, got "caffe"');
    tf.dispose([image, batch]);
  });
});

function expectClose(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((value, i) => expect(actual[i]).toBeCloseTo(value, 6));
}
