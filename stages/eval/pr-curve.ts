/**
 * The probabilistic half of SSBC scoring: a precision-recall curve from pooled 8-bit
 * probabilities, the point of best F1 on it, the IoU at that threshold, and the area
 * under the curve.
 *
 * The curve follows the SSBC 2020 kit (scikit-learn's `precision_recall_curve`, then
 * the kit's own clean-up):
 * - one point per 8-bit value present among the pixels (a pixel is predicted sclera
 *   when its value >= that value), so the lowest point predicts everything (recall 1);
 * - an end point (recall 0, precision 1) with no threshold, as scikit-learn appends;
 * - points sharing a recall are reduced to the one of highest precision (this drops
 *   every real point of recall 0, as the end point beats them).
 * Best F1: the highest 2PR / (P + R) among the curve's points (0 when P + R = 0); on a
 * tie the lowest threshold, as the kit's `argmax` over ascending thresholds takes.
 * PR-AUC: the trapezoid rule over the curve's points in recall order, end point
 * included (scikit-learn's `auc(recall, precision)`, which the kit calls) — not the
 * step-wise "average precision".
 */
import { f1Of, ratio, ssbcIoU, type Confusion } from "./confusion.js";
import { LEVELS, confusionByLevel, type ProbabilityHistograms } from "./histogram.js";

export interface CurvePoint {
  /** The cut as a probability, level / 255. */
  readonly threshold: number;
  /** Pixels with value >= level are predicted sclera. */
  readonly level: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface BestThreshold extends CurvePoint {
  /** SSBC IoU (mean of sclera and background IoU) at this threshold. */
  readonly iou: number;
}

export interface ProbabilisticScores {
  /** The curve's points in ascending threshold (descending recall), without the end point. */
  readonly curve: readonly CurvePoint[];
  /** Null only when there are no pixels at all. */
  readonly best: BestThreshold | null;
  readonly prAuc: number;
}

/** The end point every curve has: nothing predicted, precision taken as 1. */
export const CURVE_END = { recall: 0, precision: 1 } as const;

export function scoreProbabilities(histograms: ProbabilityHistograms): ProbabilisticScores {
  const { positives, negatives } = histograms;
  const byLevel = confusionByLevel(positives, negatives);
  const points: { point: CurvePoint; counts: Confusion }[] = [];
  for (let level = 0; level < LEVELS; level++) {
    if ((positives[level] as number) + (negatives[level] as number) === 0) continue;
    const counts = byLevel[level] as Confusion;
    const precision = ratio(counts.tp, counts.tp + counts.fp);
    const recall = ratio(counts.tp, counts.tp + counts.fn);
    points.push({ point: { threshold: level / 255, level, precision, recall, f1: f1Of(counts) }, counts });
  }
  const kept = keepBestPerRecall(points);
  let best: { point: CurvePoint; counts: Confusion } | null = null;
  for (const entry of kept) if (best === null || entry.point.f1 > best.point.f1) best = entry;
  // The kit's argmax also sees the end point (F1 0): it wins only when no real point survives.
  return {
    curve: kept.map((entry) => entry.point),
    best: best === null ? bestWhenNothingSurvives(points) : { ...best.point, iou: ssbcIoU(best.counts) },
    prAuc: trapezoidArea(kept.map((entry) => entry.point)),
  };
}

/** Points in ascending threshold; keeps, for each recall, the point of highest precision. */
function keepBestPerRecall<T extends { point: CurvePoint }>(points: readonly T[]): T[] {
  const kept: T[] = [];
  for (const entry of points) {
    // Recall never rises with the threshold, so equal recalls are neighbours.
    const last = kept.at(-1);
    if (last !== undefined && last.point.recall === entry.point.recall) {
      if (entry.point.precision > last.point.precision) kept[kept.length - 1] = entry;
    } else {
      kept.push(entry);
    }
  }
  // The end point has recall 0 and precision 1: it replaces any real point of recall 0.
  return kept.filter((entry) => entry.point.recall !== CURVE_END.recall);
}

/**
 * No real point of positive recall (no sclera pixel in the truth, or none predicted
 * at any threshold): report the lowest threshold, where F1 is 0 like everywhere.
 */
function bestWhenNothingSurvives(points: readonly { point: CurvePoint; counts: Confusion }[]): BestThreshold | null {
  const first = points[0];
  return first === undefined ? null : { ...first.point, iou: ssbcIoU(first.counts) };
}

/** Trapezoids between consecutive points by recall, from the highest recall down to the end point. */
export function trapezoidArea(curve: readonly { readonly recall: number; readonly precision: number }[]): number {
  const path = [...curve, CURVE_END];
  let area = 0;
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1] as (typeof path)[number];
    const b = path[i] as (typeof path)[number];
    area += ((a.recall - b.recall) * (a.precision + b.precision)) / 2;
  }
  return area;
}
