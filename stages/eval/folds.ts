/**
 * The SSBC fold split: images shuffled, then cut into k folds of consecutive images.
 *
 * The kit shuffles its image list (unseeded) and cuts it with numpy's `array_split`:
 * k contiguous parts whose sizes differ by at most one, the larger ones first. Here
 * the shuffle is seeded (the experiment seed), so a score can be reproduced: names
 * are sorted, then shuffled with a generator derived from the seed. A breakdown group
 * keeps the overall order and is cut into its own k folds, as the kit does.
 */
import { derivedSeed, makeRandom, shuffled } from "../data/split.js";

/** The seeded order in which images are dealt into folds. */
export function foldOrder(names: readonly string[], seed: number): string[] {
  const sorted = [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length !== names.length) throw new RangeError("image names must be unique");
  return shuffled(sorted, makeRandom(derivedSeed(seed, "ssbc-folds")));
}

/** `values` cut into `parts` contiguous runs; the first `length % parts` runs hold one more. Some may be empty. */
export function splitEvenly<T>(values: readonly T[], parts: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`parts must be a positive integer, got ${parts}`);
  const small = Math.floor(values.length / parts);
  const larger = values.length % parts;
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const size = small + (i < larger ? 1 : 0);
    out.push(values.slice(start, start + size));
    start += size;
  }
  return out;
}

export interface MeanStd {
  readonly mean: number;
  /**
   * Population standard deviation (divides by n, not n - 1): the SSBC kit keeps its
   * per-fold figures in a running-statistics object whose default is ddof = 0, and
   * draws its curve bands with numpy's `std` (also ddof = 0).
   */
  readonly std: number;
}

export function meanAndStd(values: readonly number[]): MeanStd {
  if (values.length === 0) throw new RangeError("mean of no values");
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}
