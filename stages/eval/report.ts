/**
 * What the `evaluate` stage and `mu-pipe score` produce: `report.json` (every figure),
 * `per-image.csv` and `breakdown.csv`. The JSON has a `version`; bump it when a field
 * changes meaning.
 */
import type { BinaryScores, Confusion } from "./confusion.js";
import { FOLD_FIGURES, type GroupScores } from "./protocol.js";

export const EVALUATION_REPORT_VERSION = 1;
export const REPORT_FILE = "report.json";
export const PER_IMAGE_FILE = "per-image.csv";
export const BREAKDOWN_FILE = "breakdown.csv";

export interface BreakdownGroup {
  readonly value: string;
  readonly scores: GroupScores;
}

export interface Breakdown {
  readonly attribute: string;
  /** Sorted by value; images without the attribute are in no group. */
  readonly groups: readonly BreakdownGroup[];
}

export interface EvaluationReport {
  readonly version: typeof EVALUATION_REPORT_VERSION;
  readonly protocol: "ssbc2020";
  readonly images: number;
  readonly folds: number;
  /** Seeds the shuffle that deals images into folds. */
  readonly seed: number;
  /** [width, height] every mask and map is resized to; null: each ground truth's own size. */
  readonly size: readonly [number, number] | null;
  readonly resampling: { readonly groundTruth: "nearest"; readonly binarised: "nearest"; readonly probabilities: "linear" };
  /** Standard deviations over folds divide by n (see folds.ts). */
  readonly std: "population";
  /** Which parts the submission had. */
  readonly sources: { readonly predictions: boolean; readonly binarised: boolean; readonly manifest: boolean };
  /** What per-image rows and `perImageMean` count: the Binarised/ masks, or the probabilities cut at 0.5. */
  readonly perImage: "binarised" | "probabilities@0.5";
  /** The binarisation threshold recorded in the submission's predictions.json, if any. */
  readonly submissionThreshold: number | null;
  readonly overall: GroupScores;
  readonly breakdowns: readonly Breakdown[];
  /** Things scored anyway that a reader should know (size mismatches, 0/1 masks). */
  readonly warnings: readonly string[];
}

export interface PerImageRow {
  readonly name: string;
  readonly split: string | null;
  readonly subject: string | null;
  readonly attributes: Readonly<Record<string, string>>;
  /** 1-based fold of the overall split; null when there are fewer images than folds. */
  readonly fold: number | null;
  readonly counts: Confusion;
  readonly scores: BinaryScores;
}

export function perImageCsv(rows: readonly PerImageRow[]): string {
  const attributes = [...new Set(rows.flatMap((row) => Object.keys(row.attributes)))].sort();
  const header = ["name", "split", "subject", ...attributes, "fold", "tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou"];
  const lines = rows.map((row) => [
    row.name,
    row.split ?? "",
    row.subject ?? "",
    ...attributes.map((a) => row.attributes[a] ?? ""),
    row.fold === null ? "" : String(row.fold),
    ...[row.counts.tp, row.counts.fp, row.counts.fn, row.counts.tn].map(String),
    ...[row.scores.precision, row.scores.recall, row.scores.f1, row.scores.iou].map(formatNumber),
  ]);
  return toCsv([header, ...lines]);
}

/** One row per (attribute, value); "all" rows first. Figures the submission lacks, or groups too small for folds, are empty cells. */
export function breakdownCsv(report: EvaluationReport): string {
  const header = ["attribute", "value", "images", ...FOLD_FIGURES.flatMap((f) => [f, `${f}_std`]), "pooled_f1", "pooled_prob_f1"];
  const row = (attribute: string, value: string, scores: GroupScores): string[] => [
    attribute,
    value,
    String(scores.images),
    ...FOLD_FIGURES.flatMap((figure) => {
      const summary = scores.summary?.[figure];
      return summary ? [formatNumber(summary.mean), formatNumber(summary.std)] : ["", ""];
    }),
    scores.pooled.binarised ? formatNumber(scores.pooled.binarised.f1) : "",
    scores.pooled.probabilistic ? formatNumber(scores.pooled.probabilistic.f1) : "",
  ];
  const rows = [row("all", "", report.overall)];
  for (const breakdown of report.breakdowns) {
    for (const group of breakdown.groups) rows.push(row(breakdown.attribute, group.value, group.scores));
  }
  return toCsv([header, ...rows]);
}

/** Six decimals are finer than one pixel in a 480x360 image; trailing zeros dropped. */
export function formatNumber(value: number): string {
  return String(Number(value.toFixed(6)));
}

function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((cells) => cells.map(csvCell).join(",")).join("\n") + "\n";
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
