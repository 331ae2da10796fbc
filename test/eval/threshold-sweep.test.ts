import { describe, expect, it } from "vitest";

import { LEVELS } from "../../stages/eval/histogram.js";
import { scoreProbabilities } from "../../stages/eval/pr-curve.js";
import { sweepThresholds, thresholdGrid } from "../../stages/eval/threshold-sweep.js";

/**
 * Synthetic probabilities with a known optimum: 10 sclera pixels at 200, 10 background
 * at 50, overlapping tails of 2 sclera pixels at 90 and 3 background at 110.
 * Cut above 50 and at or below 90: TP 12, FP 3        -> F1 24/27 = 0.889
 * Cut above 90 and at or below 110: TP 10, FP 3, FN 2 -> F1 20/25 = 0.8
 * Cut above 110 and at or below 200: TP 10, FN 2      -> F1 20/22 = 0.909 (best)
 */
function synthetic() {
  const positives = new Float64Array(LEVELS);
  const negatives = new Float64Array(LEVELS);
  positives[200] = 10;
  positives[90] = 2;
  negatives[50] = 10;
  negatives[110] = 3;
  return { positives, negatives };
}

describe("sweepThresholds", () => {
  it("finds the known optimum: the lowest grid threshold that cuts above 110/255", () => {
    const { positives, negatives } = synthetic();
    const sweep = sweepThresholds(positives, negatives);
    // 0.43 * 255 = 109.65: value 110 still counts as sclera; 0.44 * 255 = 112.2 does not.
    expect(sweep.best).toEqual({ threshold: 0.44, precision: 1, recall: 10 / 12, f1: 20 / 22 });
    expect(sweep.curve).toHaveLength(101);
    expect(sweep.curve[43]).toEqual({ threshold: 0.43, precision: 10 / 13, recall: 10 / 12, f1: 20 / 25 });
    expect(sweep.curve[0]).toEqual({ threshold: 0, precision: 12 / 25, recall: 1, f1: 24 / 37 });
    // above 200/255 nothing is predicted: 0/0 precision is 0
    expect(sweep.curve[100]).toEqual({ threshold: 1, precision: 0, recall: 0, f1: 0 });
  });

  it("agrees with the SSBC curve on the best F1, which that curve places at a value present", () => {
    const { positives, negatives } = synthetic();
    const best = scoreProbabilities({ positives, negatives }).best;
    expect(best).toMatchObject({ level: 200, f1: 20 / 22 });
    expect(sweepThresholds(positives, negatives).best.f1).toBe(best?.f1);
  });

  it("uses the given step and clean decimal thresholds", () => {
    const { positives, negatives } = synthetic();
    expect(sweepThresholds(positives, negatives, 0.25).curve.map((p) => p.threshold)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(thresholdGrid(0.01)[7]).toBe(0.07);
    expect(thresholdGrid(0.3)).toEqual([0, 0.3, 0.6, 0.9]);
    expect(() => thresholdGrid(0)).toThrow("step must be in (0, 1], got 0");
  });

  it("breaks ties in F1 towards the lowest threshold", () => {
    const positives = new Float64Array(LEVELS);
    const negatives = new Float64Array(LEVELS);
    positives[255] = 4;
    negatives[0] = 4;
    // every threshold in (0, 1] separates perfectly
    expect(sweepThresholds(positives, negatives).best.threshold).toBe(0.01);
  });
});
