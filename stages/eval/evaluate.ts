/**
 * `evaluate`: scores a submission folder (the `predict` stage's `submission`: SSBC
 * layout with GroundTruth/ and predictions.json) under the SSBC 2020 protocol
 * (score-submission.ts, protocol.ts): per-fold pooled figures as mean and std over
 * folds dealt from the experiment seed, whole-set pooled figures, per-image rows and
 * breakdowns by the images' attributes.
 *
 * Outputs `report.json` (every figure), `per-image.csv` and `breakdown.csv`.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import { defineStageType, type Metrics, type StageContext } from "../../pipeline/stage.js";
import type { FoldFigure } from "./protocol.js";
import { BREAKDOWN_FILE, PER_IMAGE_FILE, REPORT_FILE, type EvaluationReport } from "./report.js";
import { GROUND_TRUTH_DIR } from "./layout.js";

export interface EvaluateParams {
  readonly protocol: "ssbc2020";
  readonly folds: number;
  /** [width, height] for scoring; null scores at each ground truth's own size. */
  readonly size: readonly [number, number] | null;
  /** Attributes to break down by; null: every attribute present. */
  readonly breakdown_by: readonly string[] | null;
}

export const evaluateStage = defineStageType<EvaluateParams>({
  name: "evaluate",
  version: 1,
  description: "Scores an SSBC-layout submission under the SSBC 2020 protocol (folds, pooled pixels, mean and std; breakdowns)",
  paramsSchema: {
    type: "object",
    additionalProperties: false,
    properties: {
      protocol: { enum: ["ssbc2020"], default: "ssbc2020", description: "Scoring protocol" },
      folds: { type: "integer", minimum: 1, maximum: 100, default: 5, description: "Folds the images are dealt into (seeded)" },
      size: {
        type: ["array", "null"],
        items: { type: "integer", minimum: 1, maximum: 8192 },
        minItems: 2,
        maxItems: 2,
        default: [480, 360],
        description: "[width, height] masks and maps are resized to before scoring; null keeps the ground truth's size",
      },
      breakdown_by: {
        type: ["array", "null"],
        items: { type: "string", minLength: 1 },
        uniqueItems: true,
        default: null,
        description: "Image attributes to break the figures down by; null: every attribute present",
      },
    },
  },
  inputs: { submission: { description: "A submission folder: Predictions/, Binarised/, GroundTruth/, predictions.json" } },
  outputs: {
    "report.json": { description: "Every figure: per fold, mean and std over folds, pooled, per breakdown group" },
    "per-image.csv": { description: "Confusion counts and figures of each image" },
    "breakdown.csv": { description: "Mean and std over folds per attribute value" },
  },
  usesSeed: true,
  async run(ctx: StageContext<EvaluateParams>) {
    const submission = ctx.inputs["submission"];
    if (submission === undefined) throw new Error("evaluate: input `submission` is not connected");
    const groundTruthDir = path.join(submission, GROUND_TRUTH_DIR);
    if (!(await isFolder(groundTruthDir))) {
      throw new Error(`evaluate: the submission has no ${GROUND_TRUTH_DIR}/ folder: its images had no ground truth to score against`);
    }
    const { scoreSubmission } = await import("./score-submission.js");
    const { breakdownCsv, perImageCsv } = await import("./report.js");
    const { report, rows } = await scoreSubmission({
      submissionDir: submission,
      groundTruthDir,
      folds: ctx.params.folds,
      size: ctx.params.size,
      seed: ctx.seed,
      breakdownBy: ctx.params.breakdown_by,
      signal: ctx.signal,
      onProgress: (current, total) => ctx.progress({ current, total, unit: "images" }),
    });
    for (const warning of report.warnings) ctx.log(`warning: ${warning}`);
    await mkdir(ctx.outDir, { recursive: true });
    await writeFile(path.join(ctx.outDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(ctx.outDir, PER_IMAGE_FILE), perImageCsv(rows));
    await writeFile(path.join(ctx.outDir, BREAKDOWN_FILE), breakdownCsv(report));
    ctx.log(`scored ${report.images} images in ${report.folds} folds`);
    return { metrics: headlineMetrics(report) };
  },
  async report(ctx) {
    const { evaluateReport } = await import("./evaluate-report.js");
    return evaluateReport(ctx);
  },
});

/** The figures shown in `mu-pipe runs` and compared across runs; null where the submission lacks a part. */
export function headlineMetrics(report: EvaluationReport): Metrics {
  const summary = report.overall.summary;
  const mean = (figure: FoldFigure): number | null => round(summary?.[figure]?.mean);
  const std = (figure: FoldFigure): number | null => round(summary?.[figure]?.std);
  return {
    f1: mean("f1"),
    f1_std: std("f1"),
    precision: mean("precision"),
    precision_std: std("precision"),
    recall: mean("recall"),
    recall_std: std("recall"),
    iou: mean("iou"),
    iou_std: std("iou"),
    prob_f1: mean("prob_f1"),
    pr_auc: mean("pr_auc"),
    pooled_f1: round(report.overall.pooled.binarised?.f1),
    images: report.images,
  };
}

function round(value: number | undefined): number | null {
  return value === undefined ? null : Number(value.toFixed(6));
}

async function isFolder(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
