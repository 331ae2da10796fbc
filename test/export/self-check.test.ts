/** The self-check's arithmetic on hand-made maps, and which calibration images it takes. */
import { describe, expect, it } from "vitest";

import { checkLines } from "../../stages/export/check/check-lines.js";
import { compareProbabilities } from "../../stages/export/check/self-check.js";
import { pickItems } from "../../stages/export/check/split-images.js";
import type { TensorItem } from "../../stages/data/tensor-shards.js";

describe("compareProbabilities", () => {
  it("scores both maps at the threshold by the 8-bit rule and measures their difference", () => {
    const masks = Uint8Array.from([1, 1, 0, 0]);
    const reference = Float32Array.from([0.9, 0.6, 0.2, 0.1]);
    // Pixel 1 falls below 0.5, pixel 2 rises to round(0.498 * 255) / 255 = 0.4980 < 0.5 (stays background).
    const exported = Float32Array.from([0.9, 0.4, 0.498, 0.1]);
    const c = compareProbabilities(reference, exported, masks, 0.5);
    expect(c.f1Reference).toBe(1);
    // tp 1, fn 1, fp 0: 2 / (2 + 1).
    expect(c.f1Exported).toBeCloseTo(2 / 3, 12);
    expect(c.maxDifference).toBeCloseTo(0.298, 6);
    expect(c.meanDifference).toBeCloseTo((0.2 + 0.298) / 4, 6);
    expect(c.maskDisagreements).toBe(1);
  });

  it("refuses maps of different sizes", () => {
    expect(() => compareProbabilities(new Float32Array(4), new Float32Array(3), new Uint8Array(4), 0.5)).toThrow("differ in size: 4, 3, 4 pixels");
  });
});

describe("pickItems", () => {
  const items = Array.from({ length: 10 }, (_, i) => ({ id: `i${i}` }) as TensorItem);
  it("spreads a sample evenly over the split, and takes all when asked for more", () => {
    expect(pickItems(items, 3).map((i) => i.id)).toEqual(["i0", "i3", "i6"]);
    expect(pickItems(items, 100)).toHaveLength(10);
  });
});

describe("checkLines", () => {
  it("puts both F1s side by side with the size and the largest difference", () => {
    const lines = checkLines(
      {
        version: 1, file: "m.tflite", format: "tflite", quantize: "int8", bytes: 568904, tfjsWeightsBytes: 1664836, split: "test", images: 60, threshold: 0.21, f1Method: "",
        f1: { tfjs: 0.91449, exported: 0.914429, drop: 0.0000612 }, probabilityDifference: { max: 0.395, mean: 0.0000031 }, maskDisagreements: 605, latencyMs: 0.82, tolerance: 0.01, passed: true, note: null,
      },
      "tflite",
    );
    expect(lines).toEqual([
      "size: 555.6 KiB (TF.js weights 1.59 MiB)",
      "F1 on 60 test images at threshold 0.21: TF.js 0.9145, tflite 0.9144, drop 0.0001 (tolerance 0.01)",
      "probability maps: max difference 0.3950, mean 3.1e-6; 605 pixels change mask",
      "latency: 0.82 ms per image (TFLite interpreter, 1 thread, batch 1)",
      "check: passed",
    ]);
  });
});
