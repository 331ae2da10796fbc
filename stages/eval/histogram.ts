/**
 * Per-level pixel counts of 8-bit probability maps, split by the true class.
 *
 * Probability maps in an SSBC submission are 8-bit, so every threshold that can make a
 * difference is one of the 256 levels: `positives[k]` counts sclera pixels whose value
 * is k, `negatives[k]` background pixels whose value is k. Two 256-bin histograms give
 * the confusion counts at every threshold in one pass over the pixels, and they pool
 * across images by addition.
 *
 * A pixel of value k is predicted sclera at threshold t when k / 255 >= t; at level L
 * (an integer) when k >= L.
 */
import type { Confusion } from "./confusion.js";

export const LEVELS = 256;

export interface ProbabilityHistograms {
  /** Sclera pixels per 8-bit value (LEVELS bins). */
  readonly positives: Float64Array;
  /** Background pixels per 8-bit value (LEVELS bins). */
  readonly negatives: Float64Array;
}

export function emptyHistograms(): ProbabilityHistograms {
  return { positives: new Float64Array(LEVELS), negatives: new Float64Array(LEVELS) };
}

/** Adds one image: `truth` nonzero = sclera, `probabilities` the 8-bit values, same length. */
export function accumulateHistograms(truth: Uint8Array, probabilities: Uint8Array, into: ProbabilityHistograms): void {
  if (truth.length !== probabilities.length) {
    throw new RangeError(`mask and probability map differ in size: ${truth.length} vs ${probabilities.length} pixels`);
  }
  const { positives, negatives } = into;
  for (let i = 0; i < truth.length; i++) {
    const value = probabilities[i] as number;
    if (truth[i] !== 0) positives[value]! += 1;
    else negatives[value]! += 1;
  }
}

export function histogramsOf(truth: Uint8Array, probabilities: Uint8Array): ProbabilityHistograms {
  const histograms = emptyHistograms();
  accumulateHistograms(truth, probabilities, histograms);
  return histograms;
}

export function sumHistograms(parts: Iterable<ProbabilityHistograms>): ProbabilityHistograms {
  const total = emptyHistograms();
  for (const part of parts) {
    for (let k = 0; k < LEVELS; k++) {
      total.positives[k]! += part.positives[k] as number;
      total.negatives[k]! += part.negatives[k] as number;
    }
  }
  return total;
}

/**
 * Confusion counts at every level: entry L is the outcome of predicting sclera for
 * values >= L, for L = 0..256 (level 256 predicts nothing).
 */
export function confusionByLevel(positives: Float64Array, negatives: Float64Array): Confusion[] {
  checkBins(positives, "positives");
  checkBins(negatives, "negatives");
  const out = new Array<Confusion>(LEVELS + 1);
  let totalPos = 0;
  let totalNeg = 0;
  for (let k = 0; k < LEVELS; k++) {
    totalPos += positives[k] as number;
    totalNeg += negatives[k] as number;
  }
  let tp = 0;
  let fp = 0;
  out[LEVELS] = { tp: 0, fp: 0, fn: totalPos, tn: totalNeg };
  for (let k = LEVELS - 1; k >= 0; k--) {
    tp += positives[k] as number;
    fp += negatives[k] as number;
    out[k] = { tp, fp, fn: totalPos - tp, tn: totalNeg - fp };
  }
  return out;
}

/** The smallest level L with L / 255 >= threshold (256 when the threshold is above 1). */
export function levelOf(threshold: number): number {
  if (Number.isNaN(threshold)) throw new RangeError("threshold is NaN");
  if (threshold <= 0) return 0;
  if (threshold > 1) return LEVELS;
  // Decided by the comparison the contract states (k / 255 >= t), not by ceil(t * 255),
  // so a rounding error in the product can never move the cut by a level.
  let level = Math.max(0, Math.floor(threshold * 255) - 1);
  while (level < LEVELS && level / 255 < threshold) level++;
  return level;
}

function checkBins(bins: Float64Array, what: string): void {
  if (bins.length !== LEVELS) throw new RangeError(`${what} must have ${LEVELS} bins (one per 8-bit value), got ${bins.length}`);
}
