/** Probability maps: 8-bit levels, bilinear mapping back to the original size, binarising, names. */
import { describe, expect, it } from "vitest";

import { binarise, probabilityLevel, probabilityLevels, resizeProbabilityMap } from "../../stages/predict/probability.js";
import { assignNames } from "../../stages/predict/submission.js";
import { composeOverlay } from "../../stages/predict/overlay.js";

describe("probability levels", () => {
  it("rounds p * 255 and clamps", () => {
    expect([0, 0.5, 0.501, 1, -0.2, 1.7, Number.NaN].map(probabilityLevel)).toEqual([0, 128, 128, 255, 0, 255, 0]);
    expect(Array.from(probabilityLevels(Float32Array.from([0.1, 0.3])))).toEqual([26, 77]);
  });
});

describe("resizeProbabilityMap", () => {
  it("interpolates bilinearly with half-pixel centres", () => {
    // 2x1 -> 4x1: output centres at source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    const out = resizeProbabilityMap(Float32Array.from([0, 1]), 2, 1, 4, 1);
    expect(Array.from(out)).toEqual([0, 64, 191, 255]);
    // 2x2 -> 1x1 samples the centre: the mean of the four.
    expect(Array.from(resizeProbabilityMap(Float32Array.from([0, 0.2, 0.4, 0.6]), 2, 2, 1, 1))).toEqual([77]);
  });

  it("keeps orientation: a left-to-right ramp stays one at another size", () => {
    const size = 4;
    const map = new Float32Array(size * size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) map[y * size + x] = x / 3;
    const out = resizeProbabilityMap(map, size, size, 10, 3);
    expect(out).toHaveLength(30);
    for (let y = 0; y < 3; y++) {
      const row = Array.from(out.subarray(y * 10, y * 10 + 10));
      expect(row).toEqual([...row].sort((a, b) => a - b));
      expect(row[0]).toBe(0);
      expect(row[9]).toBe(255);
    }
  });

  it("rejects a map of the wrong length", () => {
    expect(() => resizeProbabilityMap(new Float32Array(3), 2, 2, 4, 4)).toThrow("probability map has 3 values, expected 2x2 = 4");
  });
});

describe("binarise", () => {
  it("predicts sclera where level / 255 >= threshold, as the sweep counts", () => {
    // 0.43: level 110 (0.4314) is in, 109 (0.4275) is out.
    expect(Array.from(binarise(Uint8Array.from([0, 109, 110, 255]), 0.43))).toEqual([0, 0, 255, 255]);
    expect(Array.from(binarise(Uint8Array.from([0, 1]), 0))).toEqual([255, 255]);
    expect(Array.from(binarise(Uint8Array.from([254, 255]), 1))).toEqual([0, 255]);
  });
});

describe("assignNames", () => {
  it("names items after their ground truth, falling back to the id on collisions", () => {
    const names = assignNames([
      { id: "sbvpi/1_L_1", nameSource: "/data/SBVPI/1/1_L_1_sclera.png" },
      { id: "a/x", nameSource: "/data/a/X.png" },
      { id: "b/x", nameSource: "/data/b/x.png" },
      { id: "y", nameSource: "/data/y.jpg" },
      { id: "a_x", nameSource: "/data/c/a_x.png" },
    ]);
    expect(names).toEqual(["1_L_1_sclera.png", "a_x.png", "b_x.png", "y.png", "a_x-2.png"]);
  });
});

describe("composeOverlay", () => {
  it("tints predicted pixels and outlines the truth", () => {
    const rgb = new Uint8Array(3 * 3 * 3).fill(100);
    const predicted = Uint8Array.from([255, 0, 0, 0, 0, 0, 0, 0, 0]);
    const truth = Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const out = composeOverlay(rgb, predicted, truth, 3, 3);
    // Every pixel but the centre is on the truth's border: outlined green.
    expect(Array.from(out.subarray(12, 15))).toEqual([100, 100, 100]);
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 255, 0]);
    const tinted = composeOverlay(rgb, predicted, null, 3, 3);
    expect(Array.from(tinted.subarray(0, 3))).toEqual([170, 55, 145]);
    expect(Array.from(tinted.subarray(3, 6))).toEqual([100, 100, 100]);
  });
});
