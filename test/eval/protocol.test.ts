import { describe, expect, it } from "vitest";

import type { Confusion } from "../../stages/eval/confusion.js";
import { foldOrder, meanAndStd, splitEvenly } from "../../stages/eval/folds.js";
import { emptyHistograms, histogramsOf } from "../../stages/eval/histogram.js";
import { perImageCounts, scoreGroup, type ImageTally } from "../../stages/eval/protocol.js";

const tally = (name: string, binarised: Confusion): ImageTally => ({ name, binarised, histograms: null });

describe("fold split", () => {
  it("cuts into contiguous runs, larger ones first, as numpy's array_split", () => {
    expect(splitEvenly([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2, 3], [4, 5], [6, 7]]);
    expect(splitEvenly([1, 2], 4)).toEqual([[1], [2], [], []]);
    expect(() => splitEvenly([1], 0)).toThrow("parts must be a positive integer, got 0");
  });

  it("deals every image into exactly one fold, the same way for the same seed", () => {
    const names = Array.from({ length: 23 }, (_, i) => `img${String(i).padStart(2, "0")}.png`);
    const order = foldOrder(names, 42);
    expect([...order].sort()).toEqual(names);
    expect(foldOrder([...names].reverse(), 42)).toEqual(order);
    expect(foldOrder(names, 43)).not.toEqual(order);
    const folds = splitEvenly(order, 5);
    expect(folds.map((f) => f.length)).toEqual([5, 5, 5, 4, 4]);
    expect(folds.flat().sort()).toEqual(names);
    expect(() => foldOrder(["a", "a"], 1)).toThrow("image names must be unique");
  });

  it("pins the order for a seed (a change here changes every published score)", () => {
    expect(foldOrder(["a", "b", "c", "d", "e", "f"], 42)).toMatchInlineSnapshot(`
      [
        "b",
        "f",
        "d",
        "c",
        "e",
        "a",
      ]
    `);
  });
});

describe("mean and std over folds", () => {
  it("uses the population standard deviation (divides by n)", () => {
    const { mean, std } = meanAndStd([0.8, 0.6, 0.7, 0.9, 0.5]);
    expect(mean).toBeCloseTo(0.7, 15);
    expect(std).toBeCloseTo(Math.sqrt(0.02), 15); // (0.01 + 0.01 + 0 + 0.04 + 0.04) / 5
    expect(meanAndStd([3])).toEqual({ mean: 3, std: 0 });
  });
});

describe("scoreGroup", () => {
  // fold 1 = A + B: TP 4 FP 1 FN 1 TN 10 -> P = R = F1 = 0.8, IoU (4/6 + 10/12)/2 = 0.75
  // fold 2 = C + D: TP 2 FP 2 FN 2 TN 10 -> P = R = F1 = 0.5, IoU (2/6 + 10/14)/2 = 11/21
  const tallies = [
    tally("A", { tp: 3, fp: 1, fn: 0, tn: 4 }),
    tally("B", { tp: 1, fp: 0, fn: 1, tn: 6 }),
    tally("C", { tp: 2, fp: 2, fn: 0, tn: 4 }),
    tally("D", { tp: 0, fp: 0, fn: 2, tn: 6 }),
  ];

  it("pools pixels per fold and reports mean and std of each figure over folds", () => {
    const scores = scoreGroup(tallies, 2);
    expect(scores.folds?.map((f) => f.binarised?.f1)).toEqual([0.8, 0.5]);
    expect(scores.summary?.f1?.mean).toBeCloseTo(0.65, 15);
    expect(scores.summary?.f1?.std).toBeCloseTo(0.15, 15);
    expect(scores.summary?.precision?.mean).toBeCloseTo(0.65, 15);
    expect(scores.summary?.iou?.mean).toBeCloseTo((0.75 + 11 / 21) / 2, 15);
    expect(scores.summary?.iou?.std).toBeCloseTo(Math.abs(0.75 - 11 / 21) / 2, 15);
    expect(scores.summary?.prob_f1).toBeUndefined();
  });

  it("also gives whole-set pooled figures and the mean of per-image figures, which differ", () => {
    const scores = scoreGroup(tallies, 2);
    // all pooled: TP 6 FP 3 FN 3 TN 20 -> F1 12/18
    expect(scores.pooled.binarised).toMatchObject({ tp: 6, fp: 3, fn: 3, tn: 20, f1: 12 / 18 });
    // per image F1: A 6/7, B 2/3, C 4/6, D 0
    expect(scores.perImageMean?.f1).toBeCloseTo((6 / 7 + 2 / 3 + 4 / 6 + 0) / 4, 15);
    expect(scores.perImageMean?.f1).not.toBeCloseTo(scores.pooled.binarised?.f1 ?? 0, 3);
  });

  it("gives no fold figures for a group with fewer images than folds", () => {
    const scores = scoreGroup(tallies.slice(0, 3), 5);
    expect(scores.folds).toBeNull();
    expect(scores.summary).toBeNull();
    expect(scores.pooled.images).toBe(3);
  });

  it("scores probabilities per fold and cuts them at 0.5 for per-image rows without a binarised mask", () => {
    const probabilistic: ImageTally[] = [
      { name: "p1", binarised: null, histograms: histogramsOf(Uint8Array.of(1, 1, 0, 0), Uint8Array.of(255, 100, 120, 0)) },
      { name: "p2", binarised: null, histograms: histogramsOf(Uint8Array.of(1, 0, 0, 0), Uint8Array.of(200, 0, 0, 0)) },
    ];
    const scores = scoreGroup(probabilistic, 2);
    // fold p1: best at 100/255 (TP 2, FP 1, F1 0.8) ; fold p2: perfect at 200/255
    expect(scores.folds?.map((f) => [f.probabilistic?.threshold, f.probabilistic?.f1])).toEqual([
      [100 / 255, 0.8],
      [200 / 255, 1],
    ]);
    expect(scores.summary?.prob_f1?.mean).toBeCloseTo(0.9, 15);
    expect(scores.summary?.prob_f1?.std).toBeCloseTo(0.1, 15);
    expect(scores.summary?.f1).toBeUndefined();
    // at 0.5 (level 128) p1 keeps only the 255 pixel: TP 1, FN 1
    expect(perImageCounts(probabilistic[0] as ImageTally)).toEqual({ tp: 1, fp: 0, fn: 1, tn: 2 });
    expect(() => perImageCounts({ name: "x", binarised: null, histograms: null })).toThrow("neither");
    expect(emptyHistograms().positives).toHaveLength(256);
  });
});
