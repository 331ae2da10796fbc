/**
 * Writes a scored submission as the `evaluate` stage's outputs (EVALUATE_OUTPUTS):
 * the stage and `mu-pipe score --out` write the same three files.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { EVALUATE_OUTPUTS } from "./evaluate-params.js";
import { breakdownCsv, perImageCsv } from "./report.js";
import type { ScoredSubmission } from "./score-submission.js";

export async function writeEvaluation(outDir: string, { report, rows }: ScoredSubmission): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, EVALUATE_OUTPUTS.report), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(outDir, EVALUATE_OUTPUTS.perImage), perImageCsv(rows));
  await writeFile(path.join(outDir, EVALUATE_OUTPUTS.breakdown), breakdownCsv(report));
}
