/**
 * Sweeping binarisation thresholds on a regular grid (0, step, 2 step, ..., up to 1)
 * over pooled 8-bit probability histograms, keeping the threshold of best F1. The
 * `threshold` stage picks the binarisation threshold this way (seed README: "sweeping
 * thresholds over the training images for the best F1").
 *
 * `positives[k]` / `negatives[k]` count sclera / background pixels whose 8-bit value is
 * k (0..255); a pixel is predicted sclera at threshold t when k / 255 >= t.
 * Precision, recall and F1 are 0 where undefined (0/0), as in confusion.ts; so the
 * thresholds above every pixel show precision 0. Ties in F1 go to the lowest threshold.
 */
import { f1Of, precisionOf, recallOf } from "./confusion.js";
import { confusionByLevel, levelOf } from "./histogram.js";

export interface SweepPoint {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface ThresholdSweep {
  readonly best: SweepPoint;
  /** One point per grid threshold, ascending. */
  readonly curve: SweepPoint[];
}

export function sweepThresholds(positives: Float64Array, negatives: Float64Array, step = 0.01): ThresholdSweep {
  const byLevel = confusionByLevel(positives, negatives);
  const curve = thresholdGrid(step).map((threshold): SweepPoint => {
    const counts = byLevel[levelOf(threshold)];
    if (counts === undefined) throw new Error(`no counts for threshold ${threshold}`);
    return { threshold, precision: precisionOf(counts), recall: recallOf(counts), f1: f1Of(counts) };
  });
  let best = curve[0] as SweepPoint;
  for (const point of curve) if (point.f1 > best.f1) best = point;
  return { best, curve };
}

/**
 * 0, step, 2 step, ... while <= 1, each rounded to 12 decimals so 0.07 is 0.07 and not
 * 0.07000000000000001 (the printed threshold is what a user types back in).
 */
export function thresholdGrid(step: number): number[] {
  if (!(step > 0 && step <= 1)) throw new RangeError(`step must be in (0, 1], got ${step}`);
  const count = Math.floor(1 / step + 1e-9);
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toFixed(12)));
}
