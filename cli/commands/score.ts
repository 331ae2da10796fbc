/**
 * `mu-pipe score <submission> --ground-truth <folder>`: scores an SSBC-layout
 * submission from any tool (Predictions/ and/or Binarised/) under the SSBC 2020
 * protocol, so other tools' results compare with mu-pipe's on the same footing.
 * Prints mean ± std over folds; `--format json` prints the whole report, `--out`
 * also writes report.json, per-image.csv and breakdown.csv.
 */
import { stat } from "node:fs/promises";
import path from "node:path";

import { DEFAULT_SEED } from "../../pipeline/config/experiment-schema.js";
import { MuPipeError } from "../../pipeline/failure.js";
import type { MaskEncoding } from "../../stages/data/dataset-manifest.js";
import { MASK_OPTION_FORMS, MaskOptionError, parseMaskOption } from "../../stages/data/mask-option.js";
import { evaluateParamsSchema } from "../../stages/eval/evaluate-params.js";
import type { MeanStd } from "../../stages/eval/folds.js";
import { GROUND_TRUTH_DIR } from "../../stages/eval/layout.js";
import type { FoldFigure, GroupScores } from "../../stages/eval/protocol.js";
import type { EvaluationReport } from "../../stages/eval/report.js";
import { SubmissionError } from "../../stages/eval/submission-error.js";
import { formatOption, parseCommandArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { renderTable } from "../output/table.js";

/** The evaluate stage's defaults, and the experiment's default seed. */
const DEFAULTS = {
  folds: evaluateParamsSchema.properties.folds.default,
  size: evaluateParamsSchema.properties.size.default,
  seed: DEFAULT_SEED,
};
const DEFAULT_SIZE = `${DEFAULTS.size[0]}x${DEFAULTS.size[1]}`;

const usage = `usage: mu-pipe score <submission folder> [options]

Scores an SSBC-layout submission (Predictions/ with 8-bit probability maps and/or
Binarised/ with black and white masks, from any tool) against ground truth under the
SSBC 2020 protocol: masks and maps resized to ${DEFAULT_SIZE}, images dealt into folds by a
seeded shuffle, pixels pooled per fold, each figure as mean ± std over the folds.
Files pair with ground-truth files by name without the extension.

  --ground-truth <folder>  ground-truth masks (default: the submission's GroundTruth/ folder)
  --mask <encoding>        how the ground truth marks the sclera, as the load stage's
                           \`mask:\` (default binary: any nonzero pixel is sclera):
                           binary[:T], class-index:N (e.g. class-index:1 when 1 = sclera,
                           2, 3 = other classes), rgb:R,G,B[~TOL] (e.g. rgb:255,0,0),
                           alpha[:T], or YAML such as '{kind: rgb, sclera: [255, 0, 0]}'
  --folds <n>              number of folds (default ${DEFAULTS.folds})
  --seed <n>               seed of the fold shuffle (default ${DEFAULTS.seed})
  --size <W>x<H>|native    scoring size (default ${DEFAULT_SIZE}); native keeps each
                           ground truth's own size
  --format table|json      output (default table); json prints the whole report
  --out <folder>           also write report.json, per-image.csv and breakdown.csv there`;

const options = {
  "ground-truth": { type: "string" },
  mask: { type: "string" },
  folds: { type: "string", default: String(DEFAULTS.folds) },
  seed: { type: "string", default: String(DEFAULTS.seed) },
  size: { type: "string", default: DEFAULT_SIZE },
  format: { type: "string", default: "table" },
  out: { type: "string" },
} as const;

export const scoreCommand: Command = {
  name: "score",
  summary: "score an SSBC submission folder against ground truth (SSBC 2020 protocol)",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const format = formatOption(values.format, ["table", "json"], usage);
    if (positionals.length !== 1) {
      throw usageError(positionals.length === 0 ? "missing the submission folder" : `expected one submission folder, got ${positionals.length}`);
    }
    const folds = parseInteger("--folds", values.folds, 1);
    const seed = parseInteger("--seed", values.seed, 0);
    const size = parseSize(values.size);
    const groundTruthMask = values.mask === undefined ? undefined : parseMask(values.mask);
    const submissionDir = path.resolve(io.cwd, positionals[0] as string);
    const groundTruthDir = await chooseGroundTruth(submissionDir, values["ground-truth"], io.cwd);

    const { scoreSubmission } = await import("../../stages/eval/score-submission.js");
    let scored: Awaited<ReturnType<typeof scoreSubmission>>;
    try {
      scored = await scoreSubmission({ submissionDir, groundTruthDir, groundTruthMask, folds, size, seed, breakdownBy: null });
    } catch (error) {
      if (error instanceof SubmissionError) throw new MuPipeError({ reason: "io", path: error.path, message: error.problem });
      throw error;
    }
    const { report } = scored;
    for (const warning of report.warnings) io.err(`warning: ${warning}`);
    if (values.out !== undefined) {
      const { writeEvaluation } = await import("../../stages/eval/write-evaluation.js");
      await writeEvaluation(path.resolve(io.cwd, values.out), scored);
    }
    if (format === "json") io.out(JSON.stringify(report, null, 2));
    else printScores(report, groundTruthDir, io);
    return 0;
  },
};

function usageError(message: string): MuPipeError {
  return new MuPipeError({ reason: "usage", message, hint: usage });
}

function parseInteger(flag: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum) {
    throw usageError(`${flag} must be an integer >= ${minimum}, not ${text}`);
  }
  return value;
}

function parseMask(text: string): MaskEncoding {
  try {
    return parseMaskOption(text);
  } catch (error) {
    if (error instanceof MaskOptionError) throw usageError(`--mask ${error.message}\n  expected ${MASK_OPTION_FORMS}`);
    throw error;
  }
}

function parseSize(text: string): [number, number] | null {
  if (text === "native") return null;
  const match = /^(\d+)x(\d+)$/.exec(text);
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 1 || height < 1 || width > 8192 || height > 8192) {
    throw usageError(`--size must be <width>x<height> (e.g. 480x360, each 1..8192) or native, not ${text}`);
  }
  return [width, height];
}

async function chooseGroundTruth(submissionDir: string, given: string | undefined, cwd: string): Promise<string> {
  if (given !== undefined) return path.resolve(cwd, given);
  const inside = path.join(submissionDir, GROUND_TRUTH_DIR);
  try {
    if ((await stat(inside)).isDirectory()) return inside;
  } catch {
    // no GroundTruth/ inside: the user must say where the truth is
  }
  throw usageError(`missing --ground-truth (the submission has no ${GROUND_TRUTH_DIR}/ folder): its images had no ground truth; pass --ground-truth <folder of masks>`);
}

/** The table: figures as rows, binarised and probabilistic as columns, then pooled figures and breakdowns. */
export function printScores(report: EvaluationReport, groundTruthDir: string, io: CommandIO): void {
  const scale = report.size ? `at ${report.size[0]}x${report.size[1]}` : "at the ground truth's size";
  io.out(`SSBC 2020: ${report.images} images against ${groundTruthDir}, scored ${scale}`);
  const overall = report.overall;
  if (overall.summary) {
    io.out(`mean ± std over ${report.folds} folds (seed ${report.seed}):`);
    io.out("");
    const cell = (figure: FoldFigure, digits = 4): string => formatMeanStd(overall.summary?.[figure], digits);
    const rows: string[][] = [
      ["F1", cell("f1"), cell("prob_f1")],
      ["precision", cell("precision"), cell("prob_precision")],
      ["recall", cell("recall"), cell("prob_recall")],
      ["IoU", cell("iou"), cell("prob_iou")],
      ["PR-AUC", "", cell("pr_auc")],
      ["threshold", "", cell("prob_threshold", 3)],
    ];
    io.out(renderTable([{ header: "" }, { header: "binarised" }, { header: "probabilities (best F1)" }], rows, { indent: "  " }).trimEnd());
  } else {
    io.out(`fewer images than folds (${report.folds}): no mean ± std, pooled figures only`);
  }
  io.out("");
  io.out(`pooled over all images: ${describePooled(overall)}`);
  for (const breakdown of report.breakdowns) {
    io.out("");
    io.out(`by ${breakdown.attribute} (mean ± std over folds; "-" where a group has fewer images than folds):`);
    const rows = breakdown.groups.map((g) => {
      const { binarised, probabilistic } = g.scores.pooled;
      return [
        g.value,
        String(g.scores.images),
        g.scores.summary ? formatMeanStd(g.scores.summary.f1) : "-",
        g.scores.summary ? formatMeanStd(g.scores.summary.prob_f1) : "-",
        binarised ? binarised.f1.toFixed(4) : "",
        probabilistic ? probabilistic.f1.toFixed(4) : "",
      ];
    });
    const columns = [
      { header: "" },
      { header: "images", align: "right" as const },
      { header: "F1" },
      { header: "F1 (probabilities)" },
      { header: "pooled F1", align: "right" as const },
      { header: "pooled F1 (prob.)", align: "right" as const },
    ];
    io.out(renderTable(columns, rows, { indent: "  " }).trimEnd());
  }
}

function formatMeanStd(value: MeanStd | undefined, digits = 4): string {
  return value ? `${value.mean.toFixed(digits)} ± ${value.std.toFixed(digits)}` : "";
}

function describePooled(scores: GroupScores): string {
  const parts: string[] = [];
  const { binarised, probabilistic } = scores.pooled;
  if (binarised) parts.push(`F1 ${binarised.f1.toFixed(4)} binarised`);
  if (probabilistic) parts.push(`F1 ${probabilistic.f1.toFixed(4)} at threshold ${probabilistic.threshold.toFixed(3)}`);
  return parts.join(", ");
}
