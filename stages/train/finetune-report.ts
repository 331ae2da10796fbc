/**
 * The `finetune` stage in a run report: per-epoch curves from `history.csv` (training
 * and validation loss with the best epoch marked, validation Dice, precision and
 * recall at 0.5, the learning rate on a log scale), and with `sampling`, the groups the
 * batches were balanced over.
 */
import type { ChartMarker, ReportSection, ReportTable, TableCell } from "../../pipeline/report-section.js";
import type { Metrics, StageReportContext } from "../../pipeline/stage.js";
import { CsvTable } from "../report/csv-table.js";
import { BALANCE_METRICS, FINETUNE_OUTPUTS } from "./finetune-params.js";

export async function finetuneReport(ctx: StageReportContext): Promise<ReportSection[]> {
  const file = ctx.outputs[FINETUNE_OUTPUTS.history];
  if (file === undefined) return [];
  const history = await CsvTable.read(file);
  const epochs = history.requiredNumbers("epoch");
  const loss = history.numbers("loss");
  const valLoss = history.numbers("val_loss");
  const hasValidation = valLoss.some((value) => value !== null);
  const epochAxis = { label: "epoch", min: 1, max: Math.max(1, ...epochs), integer: true };
  const lr = history.numbers("lr");
  const lrs = lr.filter((value): value is number => value !== null && value > 0);
  // A log scale helps once the rate has been cut by a factor; a constant rate reads better on a linear one.
  const lrScale = lrs.length > 0 && Math.max(...lrs) / Math.min(...lrs) >= 5 ? "log" : "linear";

  const markers: ChartMarker[] = [];
  const best = ctx.metrics["best_epoch"];
  const at = typeof best === "number" ? epochs.indexOf(best) : -1;
  const bestLoss = (hasValidation ? valLoss : loss)[at];
  if (at >= 0 && bestLoss !== undefined && bestLoss !== null) {
    markers.push({ label: `best epoch ${best} (${hasValidation ? "val " : ""}loss ${bestLoss.toPrecision(4)})`, x: epochs[at] ?? 0, y: bestLoss });
  }

  return [
    {
      title: "Training curves",
      blocks: [
        {
          kind: "chart",
          id: "loss",
          title: "Loss per epoch",
          x: epochAxis,
          y: { label: "loss" },
          series: [
            { label: "loss (train)", x: epochs, y: loss },
            ...(hasValidation ? [{ label: "val loss", x: epochs, y: valLoss }] : []),
          ],
          markers,
        },
        {
          kind: "chart",
          id: "scores",
          title: `Dice, precision and recall at 0.5 (${hasValidation ? "validation" : "training"} split)`,
          x: epochAxis,
          y: { label: "score", min: 0, max: 1 },
          series: ["dice", "precision", "recall"].map((column) => ({ label: column, x: epochs, y: history.numbers(column) })),
        },
        {
          kind: "chart",
          id: "lr",
          title: "Learning rate",
          x: epochAxis,
          y: { label: "learning rate", scale: lrScale, ...(lrScale === "linear" ? { min: 0 } : {}) },
          series: [{ label: "learning rate", x: epochs, y: lr }],
        },
        ...balanceTable(ctx.metrics),
      ],
    },
  ];
}

/** The groups of a balanced run (from its metrics, see BALANCE_METRICS); none for an unbalanced one. */
function balanceTable(metrics: Metrics): ReportTable[] {
  const by = metrics[BALANCE_METRICS.by];
  if (typeof by !== "string") return [];
  const rows = Object.keys(metrics)
    .filter((key) => key.startsWith(BALANCE_METRICS.share))
    .map((key) => key.slice(BALANCE_METRICS.share.length))
    .sort()
    .map((value) => [value, numberOrNull(metrics[`${BALANCE_METRICS.items}${value}`]), numberOrNull(metrics[`${BALANCE_METRICS.share}${value}`])]);
  return [{ kind: "table", title: `Training batches balanced by "${by}"`, columns: [by, "training items", "share of the draws"], rows }];
}

function numberOrNull(value: Metrics[string] | undefined): TableCell {
  return typeof value === "number" ? value : null;
}
