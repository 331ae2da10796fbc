/**
 * Confusion counts of binary masks and the figures SSBC reports from them.
 *
 * Counts are pooled by adding them: the precision of a set of images is the precision
 * of all their pixels together (not the mean of per-image precisions).
 *
 * Undefined ratios (0/0) are 0, as scikit-learn's `zero_division` default gives and
 * the SSBC 2020 kit therefore reports: precision with no predicted sclera pixel, recall
 * with no true sclera pixel, F1 when precision + recall = 0.
 */

export interface Confusion {
  /** Sclera predicted as sclera. */
  readonly tp: number;
  /** Background predicted as sclera. */
  readonly fp: number;
  /** Sclera predicted as background. */
  readonly fn: number;
  /** Background predicted as background. */
  readonly tn: number;
}

export interface BinaryScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** SSBC's IoU: the mean of the sclera IoU and the background IoU (see `ssbcIoU`). */
  readonly iou: number;
}

export const NO_PIXELS: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };

/** Counts over two same-sized masks; any nonzero byte is sclera. */
export function countConfusion(truth: Uint8Array, predicted: Uint8Array): Confusion {
  if (truth.length !== predicted.length) {
    throw new RangeError(`masks differ in size: ${truth.length} vs ${predicted.length} pixels`);
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] !== 0;
    const p = predicted[i] !== 0;
    if (p) {
      if (t) tp++;
      else fp++;
    } else if (t) fn++;
  }
  return { tp, fp, fn, tn: truth.length - tp - fp - fn };
}

export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

export function sumConfusion(counts: Iterable<Confusion>): Confusion {
  let total = NO_PIXELS;
  for (const c of counts) total = addConfusion(total, c);
  return total;
}

/** n / d, and 0 for 0/0 (the convention of this module). */
export function ratio(n: number, d: number): number {
  return d === 0 ? 0 : n / d;
}

export function precisionOf(c: Confusion): number {
  return ratio(c.tp, c.tp + c.fp);
}

export function recallOf(c: Confusion): number {
  return ratio(c.tp, c.tp + c.fn);
}

/** 2PR / (P + R), computed from counts as 2TP / (2TP + FP + FN) (the same value, no rounding between). */
export function f1Of(c: Confusion): number {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
}

/**
 * The IoU SSBC reports: the mean over the two classes (sclera, background) of
 * |truth ∩ prediction| / |truth ∪ prediction|, as scikit-learn's
 * `jaccard_score(average="macro")` computes it in the SSBC kit. A class that is in
 * neither the truth nor the prediction is left out of the mean (scikit-learn only
 * averages over labels present), so an all-background image predicted all
 * background has IoU 1. No pixels at all: 0.
 */
export function ssbcIoU(c: Confusion): number {
  const scleraUnion = c.tp + c.fp + c.fn;
  const backgroundUnion = c.tn + c.fp + c.fn;
  const ious: number[] = [];
  if (scleraUnion > 0) ious.push(c.tp / scleraUnion);
  if (backgroundUnion > 0) ious.push(c.tn / backgroundUnion);
  return ious.length === 0 ? 0 : ious.reduce((a, b) => a + b, 0) / ious.length;
}

export function scoresOf(c: Confusion): BinaryScores {
  return { precision: precisionOf(c), recall: recallOf(c), f1: f1Of(c), iou: ssbcIoU(c) };
}

/** The unweighted mean of per-image scores (each image counts once, whatever its sclera area). */
export function meanOfScores(scores: readonly BinaryScores[]): BinaryScores | null {
  if (scores.length === 0) return null;
  const mean = (pick: (s: BinaryScores) => number): number => scores.reduce((sum, s) => sum + pick(s), 0) / scores.length;
  return { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1), iou: mean((s) => s.iou) };
}
