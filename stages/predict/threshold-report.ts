/**
 * The `threshold` stage in a run report: F1, precision and recall against the
 * threshold (`curve.csv`) and the precision-recall curve (`pr.csv`), each with the
 * chosen threshold of `threshold.json` marked.
 */
import type { ReportSection } from "../../pipeline/report-section.js";
import type { StageReportContext } from "../../pipeline/stage.js";
import { CsvTable } from "../report/csv-table.js";
import { THRESHOLD_OUTPUTS } from "./threshold-params.js";
import { describeWhere } from "./item-where.js";
import { readThresholdFile } from "./threshold-file.js";

export async function thresholdReport(ctx: StageReportContext): Promise<ReportSection[]> {
  const files = {
    threshold: ctx.outputs[THRESHOLD_OUTPUTS.threshold],
    curve: ctx.outputs[THRESHOLD_OUTPUTS.curve],
    pr: ctx.outputs[THRESHOLD_OUTPUTS.pr],
  };
  if (files.threshold === undefined || files.curve === undefined || files.pr === undefined) return [];
  const chosen = await readThresholdFile(files.threshold);
  const curve = await CsvTable.read(files.curve);
  const pr = await CsvTable.read(files.pr);
  const thresholds = curve.requiredNumbers("threshold");
  const label = `chosen threshold ${chosen.threshold}`;
  const subset = chosen.where === undefined ? "" : `, ${describeWhere(chosen.where)}`;
  const tta = chosen.tta === "flip" ? ", flip TTA" : "";

  return [
    {
      title: `Threshold sweep (${chosen.split} split${subset}, ${chosen.images} images${tta})`,
      blocks: [
        {
          kind: "table",
          columns: ["threshold", "F1", "precision", "recall"],
          rows: [[chosen.threshold, round(chosen.f1), round(chosen.precision), round(chosen.recall)]],
        },
        {
          kind: "chart",
          id: "f1",
          title: "F1, precision and recall against the threshold (pooled pixels)",
          x: { label: "threshold", min: 0, max: 1 },
          y: { label: "score", min: 0, max: 1 },
          series: ["f1", "precision", "recall"].map((column) => ({ label: column === "f1" ? "F1" : column, x: thresholds, y: curve.numbers(column) })),
          markers: [{ label: `${label} (F1 ${round(chosen.f1)})`, x: chosen.threshold, y: chosen.f1 }],
        },
        {
          kind: "chart",
          id: "pr",
          title: "Precision-recall curve",
          x: { label: "recall", min: 0, max: 1 },
          y: { label: "precision", min: 0, max: 1 },
          series: [{ label: "precision-recall", x: pr.requiredNumbers("recall"), y: pr.numbers("precision") }],
          markers: [{ label, x: chosen.recall, y: chosen.precision }],
        },
      ],
    },
  ];
}

function round(value: number): number {
  return Number(value.toFixed(4));
}
