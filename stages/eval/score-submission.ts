/**
 * Scoring a submission folder against ground truth under the SSBC 2020 protocol:
 * pair the files (submission.ts), read and resize each image and keep only its tally
 * (confusion counts, probability histograms: a few kilobytes per image, whatever the
 * set's size), deal images into seeded folds, and score the whole set and each
 * breakdown group (protocol.ts).
 *
 * Unreadable files do not stop the reading at once: all are collected, then one error
 * names them (5 at most, then "and N more"). A prediction whose size differs from its
 * ground truth is scored anyway (the protocol resizes both to the scoring size) and
 * reported as a warning.
 *
 * Heavy (sharp, through read-images.ts): import this module lazily.
 */
import path from "node:path";

import type { MaskEncoding } from "../data/dataset-manifest.js";
import { baseName } from "../data/image-files.js";
import { LISTED_PROBLEMS } from "../data/input-problems.js";
import { forEachConcurrently } from "../data/work-pool.js";
import { countConfusion, scoresOf } from "./confusion.js";
import { foldOrder, splitEvenly } from "./folds.js";
import { histogramsOf } from "./histogram.js";
import { perImageCounts, scoreGroup, type ImageTally } from "./protocol.js";
import { readBinarised, readGroundTruth, readProbabilities, UnreadableImageError, type ScoringSize } from "./read-images.js";
import { EVALUATION_REPORT_VERSION, type Breakdown, type EvaluationReport, type PerImageRow } from "./report.js";
import { BINARISED_DIR, PREDICTIONS_DIR, matchSubmission, type SubmissionEntry } from "./submission.js";
import { SubmissionError, count, listNames } from "./submission-error.js";
import { readSubmissionManifest, type SubmissionItem } from "./submission-manifest.js";

export interface ScoreOptions {
  readonly submissionDir: string;
  readonly groundTruthDir: string;
  readonly folds: number;
  /** [width, height] to resize everything to; null: each ground truth's own size. */
  readonly size: readonly [number, number] | null;
  readonly seed: number;
  /** How the ground-truth files encode the sclera (the load stage's `mask:`); default binary, sclera = nonzero. */
  readonly groundTruthMask?: MaskEncoding;
  /** Attributes to break down by; null: every attribute an image has. */
  readonly breakdownBy: readonly string[] | null;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ScoredSubmission {
  readonly report: EvaluationReport;
  /** One per image, sorted by name. */
  readonly rows: readonly PerImageRow[];
}

const BINARY_MASK: MaskEncoding = { kind: "binary" };

/** Images read at once: sharp decodes on libuv threads; a few keep 2 cores busy. */
const CONCURRENCY = 3;

interface Tallied {
  readonly tally: ImageTally;
  readonly sizeMismatch: { readonly folder: string; readonly file: string; readonly own: string; readonly truth: string }[];
  readonly zeroOneMask: string | null;
}

export async function scoreSubmission(options: ScoreOptions): Promise<ScoredSubmission> {
  const { submissionDir, groundTruthDir } = options;
  const layout = await matchSubmission(submissionDir, groundTruthDir);
  const manifest = await readSubmissionManifest(submissionDir);
  const items = new Map<string, SubmissionItem>((manifest?.items ?? []).map((item) => [baseName(item.name), item]));
  const breakdownBy = chooseAttributes(layout.entries, items, options.breakdownBy);
  const size: ScoringSize | null = options.size ? { width: options.size[0], height: options.size[1] } : null;

  const tallied = new Map<string, Tallied>();
  const unreadable: string[] = [];
  let done = 0;
  const label = (file: string): string => {
    const relative = path.relative(submissionDir, file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
  };
  await forEachConcurrently(layout.entries, CONCURRENCY, options.signal ?? new AbortController().signal, async (entry) => {
    try {
      tallied.set(entry.key, await tallyEntry(entry, size, options.groundTruthMask ?? BINARY_MASK, label));
    } catch (error) {
      if (!(error instanceof UnreadableFile)) throw error;
      unreadable.push(error.message);
    }
    options.onProgress?.(++done, layout.entries.length);
  });
  if (unreadable.length > 0) {
    const lines = unreadable.sort().slice(0, LISTED_PROBLEMS);
    if (unreadable.length > lines.length) lines.push(`and ${unreadable.length - lines.length} more`);
    throw new SubmissionError(submissionDir, `${count(unreadable.length, "image")} cannot be read:\n${lines.map((l) => `  ${l}`).join("\n")}`);
  }

  const order = foldOrder(
    layout.entries.map((e) => e.key),
    options.seed,
  );
  const tallyOf = (key: string): ImageTally => (tallied.get(key) as Tallied).tally;
  const ordered = order.map(tallyOf);
  const foldOf = new Map<string, number>();
  if (order.length >= options.folds) splitEvenly(order, options.folds).forEach((keys, i) => keys.forEach((key) => foldOf.set(key, i + 1)));

  const breakdowns: Breakdown[] = breakdownBy.map((attribute) => {
    const values = [...new Set(order.map((key) => items.get(key)?.attributes[attribute]).filter((v): v is string => v !== undefined))].sort();
    return {
      attribute,
      groups: values.map((value) => ({
        value,
        scores: scoreGroup(
          order.filter((key) => items.get(key)?.attributes[attribute] === value).map(tallyOf),
          options.folds,
        ),
      })),
    };
  });

  const rows: PerImageRow[] = layout.entries.map((entry) => {
    const item = items.get(entry.key);
    const counts = perImageCounts(tallyOf(entry.key));
    return {
      name: entry.name,
      split: item?.split ?? null,
      subject: item?.subject ?? null,
      attributes: item?.attributes ?? {},
      fold: foldOf.get(entry.key) ?? null,
      counts,
      scores: scoresOf(counts),
    };
  });

  // Fewer images than folds would leave the headline figures empty: use one fold per image then.
  const overallFolds = Math.max(1, Math.min(options.folds, ordered.length));
  const foldWarning =
    overallFolds < options.folds ? [`only ${count(ordered.length, "image")}: scored with ${overallFolds} fold${overallFolds === 1 ? "" : "s"} instead of ${options.folds}`] : [];
  const report: EvaluationReport = {
    version: EVALUATION_REPORT_VERSION,
    protocol: "ssbc2020",
    images: layout.entries.length,
    folds: overallFolds,
    seed: options.seed,
    size: options.size ? [options.size[0], options.size[1]] : null,
    resampling: { groundTruth: "nearest", binarised: "nearest", probabilities: "linear" },
    std: "population",
    sources: { predictions: layout.hasPredictions, binarised: layout.hasBinarised, manifest: manifest !== null },
    perImage: layout.hasBinarised ? "binarised" : "probabilities@0.5",
    submissionThreshold: manifest?.threshold ?? null,
    overall: scoreGroup(ordered, overallFolds, { withCurve: true }),
    breakdowns,
    warnings: [...foldWarning, ...warningsOf([...tallied.values()], layout.entries, manifest === null ? null : items, size)],
  };
  return { report, rows };
}

/** An image of the submission that cannot be decoded; the message names the file. */
class UnreadableFile extends Error {}

async function tallyEntry(entry: SubmissionEntry, size: ScoringSize | null, mask: MaskEncoding, label: (file: string) => string): Promise<Tallied> {
  const read = async <T>(file: string, reader: () => Promise<T>): Promise<T> => {
    try {
      return await reader();
    } catch (error) {
      if (error instanceof UnreadableImageError) throw new UnreadableFile(`${label(file)}: ${error.message}`);
      throw error;
    }
  };
  const truth = await read(entry.groundTruth, () => readGroundTruth(entry.groundTruth, size, mask));
  const target = size ?? { width: truth.width, height: truth.height };
  const sizeMismatch: Tallied["sizeMismatch"] = [];
  const checkSize = (folder: string, own: { width: number; height: number }): void => {
    if (own.width !== truth.width || own.height !== truth.height) {
      sizeMismatch.push({ folder, file: entry.name, own: `${own.width}x${own.height}`, truth: `${truth.width}x${truth.height}` });
    }
  };

  let binarised: ImageTally["binarised"] = null;
  let zeroOneMask: string | null = null;
  if (entry.binarised) {
    const file = entry.binarised;
    const mask = await read(file, () => readBinarised(file, target));
    checkSize(BINARISED_DIR, mask);
    if (mask.maxLevel > 0 && mask.maxLevel <= 127) zeroOneMask = path.basename(file);
    binarised = countConfusion(truth.pixels, mask.pixels);
  }
  let histograms: ImageTally["histograms"] = null;
  if (entry.prediction) {
    const file = entry.prediction;
    const map = await read(file, () => readProbabilities(file, target));
    checkSize(PREDICTIONS_DIR, map);
    histograms = histogramsOf(truth.pixels, map.pixels);
  }
  return { tally: { name: entry.name, binarised, histograms }, sizeMismatch, zeroOneMask };
}

/** The attributes to break down by; an attribute asked for that no image has is an error. */
function chooseAttributes(
  entries: readonly SubmissionEntry[],
  items: ReadonlyMap<string, SubmissionItem>,
  asked: readonly string[] | null,
): string[] {
  const present = [...new Set(entries.flatMap((e) => Object.keys(items.get(e.key)?.attributes ?? {})))].sort();
  if (asked === null) return present;
  const absent = asked.filter((a) => !present.includes(a));
  if (absent.length > 0) {
    const known = present.length > 0 ? `attributes present: ${present.join(", ")}` : "the submission has no predictions.json with attributes";
    throw new Error(`breakdown_by: no image has ${absent.length === 1 ? "attribute" : "attributes"} ${absent.join(", ")} (${known})`);
  }
  return [...new Set(asked)];
}

function warningsOf(
  tallied: readonly Tallied[],
  entries: readonly SubmissionEntry[],
  items: ReadonlyMap<string, SubmissionItem> | null,
  size: ScoringSize | null,
): string[] {
  const warnings: string[] = [];
  const resized = size ? `both resized to ${size.width}x${size.height}` : "the prediction resized to its ground truth's size";
  for (const folder of [PREDICTIONS_DIR, BINARISED_DIR]) {
    const mismatched = tallied.flatMap((t) => t.sizeMismatch.filter((m) => m.folder === folder));
    if (mismatched.length > 0) {
      const files = mismatched.map((m) => `${m.file} (${m.own}, ground truth ${m.truth})`);
      warnings.push(`${folder}/: ${count(mismatched.length, "image")} ${mismatched.length === 1 ? "differs" : "differ"} in size from the ground truth, scored with ${resized}: ${listNames(files)}`);
    }
  }
  const zeroOne = tallied.map((t) => t.zeroOneMask).filter((name): name is string => name !== null);
  if (zeroOne.length > 0) {
    warnings.push(
      `${BINARISED_DIR}/: ${count(zeroOne.length, "mask")} ${zeroOne.length === 1 ? "has" : "have"} no pixel brighter than 127 but some nonzero (0/1 masks?); ` +
        `${zeroOne.length === 1 ? "it scores" : "they score"} as all background (sclera must be white): ${listNames(zeroOne)}`,
    );
  }
  if (items) {
    const unlisted = entries.filter((e) => !items.has(e.key)).map((e) => e.name);
    if (unlisted.length > 0) warnings.push(`predictions.json lists no entry for ${count(unlisted.length, "image")} (no attributes): ${listNames(unlisted)}`);
  }
  return warnings;
}
