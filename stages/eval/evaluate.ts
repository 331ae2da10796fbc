/**
 * `evaluate`: scores a submission folder (the `predict` stage's `submission`: SSBC
 * layout with GroundTruth/ and predictions.json) under the SSBC 2020 protocol
 * (score-submission.ts, protocol.ts): per-fold pooled figures as mean and std over
 * folds dealt from the experiment seed, whole-set pooled figures, per-image rows and
 * breakdowns by the images' attributes.
 *
 * Outputs `report.json` (every figure), `per-image.csv` and `breakdown.csv`.
 */
import { stat } from "node:fs/promises";
import path from "node:path";

import { defineStageType, type Metrics, type StageContext } from "../../pipeline/stage.js";
import type { FoldFigure } from "./protocol.js";
import { EVALUATE_OUTPUTS, evaluateParamsSchema, type EvaluateParams } from "./evaluate-params.js";
import { GROUND_TRUTH_DIR } from "./layout.js";
import type { EvaluationReport } from "./report.js";

export const evaluateStage = defineStageType<EvaluateParams>({
  name: "evaluate",
  // v2: metrics gain the headline figures of each breakdown group (`kind=webcam.f1`, ...).
  // v3: only for attributes of at most MAX_METRIC_GROUPS values.
  version: 3,
  description: "Scores an SSBC-layout submission under the SSBC 2020 protocol (folds, pooled pixels, mean and std; breakdowns)",
  paramsSchema: evaluateParamsSchema,
  inputs: { submission: { description: "A submission folder: Predictions/, Binarised/, GroundTruth/, predictions.json" } },
  outputs: {
    [EVALUATE_OUTPUTS.report]: { description: "Every figure: per fold, mean and std over folds, pooled, per breakdown group" },
    [EVALUATE_OUTPUTS.perImage]: { description: "Confusion counts and figures of each image" },
    [EVALUATE_OUTPUTS.breakdown]: { description: "Mean and std over folds per attribute value" },
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
    const { writeEvaluation } = await import("./write-evaluation.js");
    const scored = await scoreSubmission({
      submissionDir: submission,
      groundTruthDir,
      folds: ctx.params.folds,
      size: ctx.params.size,
      seed: ctx.seed,
      breakdownBy: ctx.params.breakdown_by,
      signal: ctx.signal,
      onProgress: (current, total) => ctx.progress({ current, total, unit: "images" }),
    });
    const { report } = scored;
    for (const warning of report.warnings) ctx.log(`warning: ${warning}`);
    await writeEvaluation(ctx.outDir, scored);
    ctx.log(`scored ${report.images} images in ${report.folds} folds`);
    return { metrics: headlineMetrics(report) };
  },
  async report(ctx) {
    const { evaluateReport } = await import("./evaluate-report.js");
    return evaluateReport(ctx);
  },
});

/**
 * Attributes with more values than this get no group figures in the metrics (an
 * attribute with a value per image, such as a synthetic eye's seed or rotation, would
 * add four keys per image); breakdown.csv and report.json still have every group.
 */
export const MAX_METRIC_GROUPS = 12;

/**
 * The figures shown in `mu-pipe runs` and compared across runs; null where the
 * submission lacks a part. After the overall figures come those of each breakdown
 * group, keyed `<attribute>=<value>.<figure>` (`kind=webcam.pooled_f1`), so a sweep
 * over folds can average the real photos apart from the renders; only for attributes
 * of at most MAX_METRIC_GROUPS values.
 */
export function headlineMetrics(report: EvaluationReport): Metrics {
  const summary = report.overall.summary;
  const mean = (figure: FoldFigure): number | null => round(summary?.[figure]?.mean);
  const std = (figure: FoldFigure): number | null => round(summary?.[figure]?.std);
  const groups: Metrics = {};
  for (const { attribute, groups: values } of report.breakdowns) {
    if (values.length > MAX_METRIC_GROUPS) continue;
    for (const { value, scores } of values) {
      const key = groupMetricPrefix(attribute, value);
      groups[`${key}.f1`] = round(scores.summary?.f1?.mean);
      groups[`${key}.f1_std`] = round(scores.summary?.f1?.std);
      groups[`${key}.pooled_f1`] = round(scores.pooled.binarised?.f1);
      groups[`${key}.images`] = scores.images;
    }
  }
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
    ...groups,
  };
}

/** `kind=webcam`: the start of a breakdown group's metric keys. */
export function groupMetricPrefix(attribute: string, value: string): string {
  return `${attribute}=${value}`;
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
