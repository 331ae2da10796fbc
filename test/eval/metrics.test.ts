import { describe, expect, it } from "vitest";

import { countConfusion, f1Of, precisionOf, recallOf, scoresOf, ssbcIoU, sumConfusion } from "../../stages/eval/confusion.js";
import { LEVELS, confusionByLevel, histogramsOf, levelOf } from "../../stages/eval/histogram.js";
import { scoreProbabilities, trapezoidArea } from "../../stages/eval/pr-curve.js";
import { resizeNearest } from "../../stages/eval/resample.js";

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** Histograms from (value, count) pairs. */
function histograms(pos: [number, number][], neg: [number, number][]) {
  const positives = new Float64Array(LEVELS);
  const negatives = new Float64Array(LEVELS);
  for (const [value, n] of pos) positives[value] = n;
  for (const [value, n] of neg) negatives[value] = n;
  return { positives, negatives };
}

describe("confusion counts and binary figures", () => {
  it("counts TP, FP, FN, TN and derives P, R, F1 and SSBC IoU by hand", () => {
    // truth 1 1 0 0 1 0 / predicted 1 0 1 0 1 0: TP at 0 and 4, FN at 1, FP at 2, TN at 3 and 5.
    const c = countConfusion(bytes(1, 1, 0, 0, 1, 0), bytes(1, 0, 1, 0, 1, 0));
    expect(c).toEqual({ tp: 2, fp: 1, fn: 1, tn: 2 });
    expect(precisionOf(c)).toBe(2 / 3);
    expect(recallOf(c)).toBe(2 / 3);
    expect(f1Of(c)).toBe(4 / 6);
    // sclera IoU 2/4, background IoU 2/4
    expect(ssbcIoU(c)).toBe(0.5);
  });

  it("gives F1 = 2PR/(P+R) and IoU = mean of the two class IoUs when P and R differ", () => {
    // truth 1 1 1 0, predicted 1 0 0 0: P 1, R 1/3, F1 = 2(1)(1/3)/(4/3) = 1/2.
    const c = countConfusion(bytes(1, 1, 1, 0), bytes(1, 0, 0, 0));
    expect(c).toEqual({ tp: 1, fp: 0, fn: 2, tn: 1 });
    expect(scoresOf(c).precision).toBe(1);
    expect(scoresOf(c).recall).toBe(1 / 3);
    expect(scoresOf(c).f1).toBe(0.5);
    // sclera 1/3, background 1/3
    expect(scoresOf(c).iou).toBeCloseTo(1 / 3, 15);
  });

  it("treats any nonzero byte as sclera", () => {
    expect(countConfusion(bytes(255, 0, 7), bytes(1, 200, 0))).toEqual({ tp: 1, fp: 1, fn: 1, tn: 0 });
  });

  it("defines 0/0 as 0 and leaves a class absent from truth and prediction out of the IoU mean", () => {
    const allBackground = countConfusion(bytes(0, 0, 0, 0), bytes(0, 0, 0, 0));
    expect(scoresOf(allBackground)).toEqual({ precision: 0, recall: 0, f1: 0, iou: 1 });
    const missedAll = countConfusion(bytes(1, 1, 0, 0), bytes(0, 0, 0, 0));
    // no predicted sclera: precision 0/0 = 0; sclera IoU 0/2, background IoU 2/4
    expect(scoresOf(missedAll)).toEqual({ precision: 0, recall: 0, f1: 0, iou: 0.25 });
    expect(scoresOf(countConfusion(bytes(), bytes()))).toEqual({ precision: 0, recall: 0, f1: 0, iou: 0 });
  });

  it("pools counts across images, which is not the mean of per-image F1", () => {
    const a = countConfusion(bytes(1, 1, 1, 1), bytes(1, 1, 1, 1)); // F1 1
    const b = countConfusion(bytes(1, 0, 0, 0), bytes(0, 1, 0, 0)); // F1 0
    const pooled = sumConfusion([a, b]);
    expect(pooled).toEqual({ tp: 4, fp: 1, fn: 1, tn: 2 });
    expect(f1Of(pooled)).toBe(0.8); // 8 / (8 + 1 + 1)
    expect((f1Of(a) + f1Of(b)) / 2).toBe(0.5);
  });

  it("refuses masks of different sizes", () => {
    expect(() => countConfusion(bytes(1, 0), bytes(1))).toThrow("masks differ in size: 2 vs 1 pixels");
  });
});

describe("probability histograms", () => {
  it("counts pixels per 8-bit value by true class and gives the counts at every level", () => {
    const h = histogramsOf(bytes(1, 1, 0, 0, 1), bytes(255, 128, 128, 0, 64));
    expect([h.positives[255], h.positives[128], h.positives[64], h.negatives[128], h.negatives[0]]).toEqual([1, 1, 1, 1, 1]);
    expect(h.positives.reduce((a, b) => a + b, 0)).toBe(3);
    const byLevel = confusionByLevel(h.positives, h.negatives);
    expect(byLevel).toHaveLength(257);
    expect(byLevel[0]).toEqual({ tp: 3, fp: 2, fn: 0, tn: 0 });
    expect(byLevel[128]).toEqual({ tp: 2, fp: 1, fn: 1, tn: 1 });
    expect(byLevel[129]).toEqual({ tp: 1, fp: 0, fn: 2, tn: 2 });
    expect(byLevel[256]).toEqual({ tp: 0, fp: 0, fn: 3, tn: 2 });
  });

  it("maps a threshold t to the smallest level k with k/255 >= t", () => {
    expect([levelOf(-1), levelOf(0), levelOf(0.2), levelOf(0.5), levelOf(1), levelOf(1.5)]).toEqual([0, 0, 51, 128, 255, 256]);
    for (let i = 0; i <= 1000; i++) {
      const t = i / 1000;
      const k = levelOf(t);
      expect(k / 255 >= t && (k === 0 || (k - 1) / 255 < t)).toBe(true);
    }
  });

  it("refuses histograms without 256 bins", () => {
    expect(() => confusionByLevel(new Float64Array(10), new Float64Array(256))).toThrow("positives must have 256 bins");
  });
});

describe("precision-recall curve, best F1 and PR-AUC (SSBC kit rules)", () => {
  // sclera: 2 px at 200, 1 px at 100; background: 1 px at 200, 1 at 100, 2 at 50.
  const hand = histograms(
    [
      [200, 2],
      [100, 1],
    ],
    [
      [200, 1],
      [100, 1],
      [50, 2],
    ],
  );

  it("has one point per value present, keeps the best precision per recall, and finds the best F1", () => {
    const scores = scoreProbabilities(hand);
    // level 50: TP 3 FP 4 (P 3/7, R 1) is dropped for level 100: TP 3 FP 2 (P 3/5, R 1).
    // level 200: TP 2 FP 1 (P 2/3, R 2/3, F1 4/6).
    expect(scores.curve.map((p) => [p.level, p.precision, p.recall])).toEqual([
      [100, 3 / 5, 1],
      [200, 2 / 3, 2 / 3],
    ]);
    // best: level 100, F1 = 6 / (6 + 2 + 0) = 0.75; IoU: sclera 3/5, background 2/4 -> 0.55
    expect(scores.best).toMatchObject({ level: 100, threshold: 100 / 255, precision: 0.6, recall: 1, f1: 0.75 });
    expect(scores.best?.iou).toBeCloseTo(0.55, 15);
  });

  it("integrates by the trapezoid rule down to the end point (recall 0, precision 1)", () => {
    // (1 - 2/3)(3/5 + 2/3)/2 + (2/3 - 0)(2/3 + 1)/2 = 19/90 + 50/90
    expect(scoreProbabilities(hand).prAuc).toBeCloseTo(69 / 90, 15);
    expect(trapezoidArea([])).toBe(0);
  });

  it("drops points of recall 0 (the end point outranks them)", () => {
    const scores = scoreProbabilities(histograms([[10, 1]], [[20, 1]]));
    expect(scores.curve.map((p) => p.level)).toEqual([10]);
    expect(scores.prAuc).toBe(0.75); // (1 - 0)(0.5 + 1)/2
    expect(scores.best).toMatchObject({ level: 10, f1: 2 / 3 });
  });

  it("scores a perfect separation 1 and picks the threshold that achieves it", () => {
    const scores = scoreProbabilities(histograms([[255, 5]], [[0, 7]]));
    expect(scores.prAuc).toBe(1);
    expect(scores.best).toMatchObject({ threshold: 1, precision: 1, recall: 1, f1: 1, iou: 1 });
  });

  it("reports F1 0 at the lowest value when there is no sclera, and nothing without pixels", () => {
    const noSclera = scoreProbabilities(histograms([], [[30, 4], [90, 1]]));
    expect(noSclera.curve).toEqual([]);
    expect(noSclera.best).toMatchObject({ level: 30, f1: 0 });
    expect(noSclera.prAuc).toBe(0);
    expect(scoreProbabilities(histograms([], [])).best).toBeNull();
  });
});

describe("nearest-neighbour resizing", () => {
  it("takes the source pixel under each output pixel's centre", () => {
    // 2x2 -> 4x2: each column doubled
    expect([...resizeNearest(bytes(1, 2, 3, 4), 2, 2, 4, 2)]).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    // 4x1 -> 2x1: centres at 1 and 3
    expect([...resizeNearest(bytes(1, 2, 3, 4), 4, 1, 2, 1)]).toEqual([2, 4]);
    // 3x1 -> 2x1: centres 0.75 and 2.25 -> source 0 and 2
    expect([...resizeNearest(bytes(5, 6, 7), 3, 1, 2, 1)]).toEqual([5, 7]);
  });
});
