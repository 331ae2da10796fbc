/**
 * The `export` stage in a run report: one row per exported file with its size and, for
 * the files that checked themselves, F1 next to the TF.js model's, the largest difference
 * of the probability maps and the latency.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import type { ReportSection } from "../../pipeline/report-section.js";
import type { StageReportContext } from "../../pipeline/stage.js";
import { formatBytes, formatDifference } from "./check/check-lines.js";
import { EXPORTS_JSON, EXPORT_STAGE_OUTPUTS, type ExportsFile } from "./export-stage-params.js";

export async function exportReport(ctx: StageReportContext): Promise<ReportSection[]> {
  const dir = ctx.outputs[EXPORT_STAGE_OUTPUTS.exports];
  if (dir === undefined) return [];
  const record = JSON.parse(await readFile(path.join(dir, EXPORTS_JSON), "utf8")) as ExportsFile;
  const checked = record.files.find((f) => f.check !== null)?.check ?? null;
  return [
    {
      title: checked === null ? "Exports" : `Exports (checked on ${checked.images} test images at threshold ${checked.threshold})`,
      blocks: [
        {
          kind: "table",
          columns: ["file", "format", "quantize", "size", "F1 TF.js", "F1 export", "F1 drop", "max prob. diff", "ms / image", "check"],
          rows: record.files.map((f) => [
            f.file,
            f.format,
            f.quantize,
            formatBytes(f.bytes),
            f.check === null ? null : round(f.check.f1.tfjs),
            f.check === null ? null : round(f.check.f1.exported),
            f.check === null ? null : round(f.check.f1.drop),
            f.check === null ? null : formatDifference(f.check.probabilityDifference.max),
            f.check?.latencyMs ?? null,
            f.check === null ? null : f.check.passed ? "passed" : "failed",
          ]),
        },
      ],
    },
  ];
}

function round(value: number): number {
  return Number(value.toFixed(4));
}
