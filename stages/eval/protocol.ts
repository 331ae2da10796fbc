/**
 * SSBC 2020 scoring of a group of images from their per-image tallies (confusion counts
 * of the binarised mask, probability histograms): pixels pooled within each fold, each
 * figure taken per fold, then mean and standard deviation over the folds. Also the
 * figures of all images pooled as one (no folds) and the mean of per-image figures.
 *
 * Pure: reading and resizing images happens elsewhere (score-submission.ts).
 */
import { meanOfScores, scoresOf, sumConfusion, type BinaryScores, type Confusion } from "./confusion.js";
import { meanAndStd, splitEvenly, type MeanStd } from "./folds.js";
import { confusionByLevel, levelOf, sumHistograms, type ProbabilityHistograms } from "./histogram.js";
import { scoreProbabilities, type CurvePoint } from "./pr-curve.js";

export interface ImageTally {
  readonly name: string;
  /** Counts of the Binarised/ mask against the truth; null when the submission has no Binarised/. */
  readonly binarised: Confusion | null;
  /** Histograms of the Predictions/ map; null when the submission has no Predictions/. */
  readonly histograms: ProbabilityHistograms | null;
}

/** The probabilistic figures at the best-F1 threshold of one pool of pixels. */
export interface ProbabilisticFigures {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly iou: number;
  readonly prAuc: number;
}

export interface PoolFigures {
  readonly images: number;
  readonly binarised: (BinaryScores & Confusion) | null;
  readonly probabilistic: ProbabilisticFigures | null;
}

/** Figures summarised over folds; `f1`..`iou` are binarised, `prob_*` and `pr_auc` probabilistic. */
export const FOLD_FIGURES = [
  "f1",
  "precision",
  "recall",
  "iou",
  "prob_f1",
  "prob_precision",
  "prob_recall",
  "prob_iou",
  "prob_threshold",
  "pr_auc",
] as const;
export type FoldFigure = (typeof FOLD_FIGURES)[number];

export interface GroupScores {
  readonly images: number;
  /** Per fold; null when the group has fewer images than folds (the kit skips such groups). */
  readonly folds: readonly PoolFigures[] | null;
  /** Mean and std over folds of each figure the submission allows; null as `folds`. */
  readonly summary: Partial<Record<FoldFigure, MeanStd>> | null;
  /** All images of the group as one pool. */
  readonly pooled: PoolFigures;
  /** The precision-recall curve of the whole pool (no end point); null without Predictions/. */
  readonly pooledCurve: readonly CurvePoint[] | null;
  /** Unweighted mean of per-image figures (see `perImageCounts`). */
  readonly perImageMean: BinaryScores | null;
}

/** Without a Binarised/ mask, per-image figures use the probability map cut at 0.5. */
export const PER_IMAGE_FALLBACK_THRESHOLD = 0.5;

/**
 * The counts a per-image row reports: of the binarised mask, or else of the
 * probabilities at PER_IMAGE_FALLBACK_THRESHOLD.
 */
export function perImageCounts(tally: ImageTally): Confusion {
  if (tally.binarised) return tally.binarised;
  if (!tally.histograms) throw new Error(`image ${tally.name} has neither a binarised mask nor a probability map`);
  const counts = confusionByLevel(tally.histograms.positives, tally.histograms.negatives)[levelOf(PER_IMAGE_FALLBACK_THRESHOLD)];
  if (!counts) throw new Error("no counts at the fallback threshold");
  return counts;
}

/** Scores `tallies` (in fold order: the seeded shuffle, see folds.ts) with `folds` folds. */
export function scoreGroup(tallies: readonly ImageTally[], folds: number, options: { withCurve?: boolean } = {}): GroupScores {
  const whole = scorePool(tallies);
  const parts = tallies.length >= folds ? splitEvenly(tallies, folds) : null;
  const perFold = parts?.map((part) => scorePool(part).figures) ?? null;
  return {
    images: tallies.length,
    folds: perFold,
    summary: perFold ? summarise(perFold) : null,
    pooled: whole.figures,
    pooledCurve: options.withCurve ? whole.curve : null,
    perImageMean: meanOfScores(tallies.map((t) => scoresOf(perImageCounts(t)))),
  };
}

function scorePool(tallies: readonly ImageTally[]): { figures: PoolFigures; curve: readonly CurvePoint[] | null } {
  const hasBinarised = tallies.length > 0 && tallies.every((t) => t.binarised !== null);
  const hasProbabilities = tallies.length > 0 && tallies.every((t) => t.histograms !== null);
  let binarised: PoolFigures["binarised"] = null;
  if (hasBinarised) {
    const counts = sumConfusion(tallies.map((t) => t.binarised as Confusion));
    binarised = { ...counts, ...scoresOf(counts) };
  }
  let probabilistic: ProbabilisticFigures | null = null;
  let curve: readonly CurvePoint[] | null = null;
  if (hasProbabilities) {
    const scores = scoreProbabilities(sumHistograms(tallies.map((t) => t.histograms as ProbabilityHistograms)));
    curve = scores.curve;
    if (scores.best) {
      const { threshold, precision, recall, f1, iou } = scores.best;
      probabilistic = { threshold, precision, recall, f1, iou, prAuc: scores.prAuc };
    }
  }
  return { figures: { images: tallies.length, binarised, probabilistic }, curve };
}

function summarise(folds: readonly PoolFigures[]): Partial<Record<FoldFigure, MeanStd>> {
  const out: Partial<Record<FoldFigure, MeanStd>> = {};
  const take = (figure: FoldFigure, pick: (fold: PoolFigures) => number | undefined): void => {
    const values = folds.map(pick);
    if (values.every((v): v is number => v !== undefined)) out[figure] = meanAndStd(values);
  };
  take("f1", (f) => f.binarised?.f1);
  take("precision", (f) => f.binarised?.precision);
  take("recall", (f) => f.binarised?.recall);
  take("iou", (f) => f.binarised?.iou);
  take("prob_f1", (f) => f.probabilistic?.f1);
  take("prob_precision", (f) => f.probabilistic?.precision);
  take("prob_recall", (f) => f.probabilistic?.recall);
  take("prob_iou", (f) => f.probabilistic?.iou);
  take("prob_threshold", (f) => f.probabilistic?.threshold);
  take("pr_auc", (f) => f.probabilistic?.prAuc);
  return out;
}
