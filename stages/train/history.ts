/** Per-epoch training records and `history.csv`. */

export interface HistoryRow {
  /** 1-based. */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  readonly loss: number;
  /** Loss over the validation split; null when it is empty. */
  readonly val_loss: number | null;
  /** Pooled pixel scores at 0.5 over the validation split (the training split when it is empty). */
  readonly dice: number;
  readonly precision: number;
  readonly recall: number;
  /** Learning rate used during the epoch. */
  readonly lr: number;
  /** Wall time of the epoch: training and evaluation. */
  readonly seconds: number;
  /** Training images per second (the training pass only). */
  readonly images_per_second: number;
}

export const HISTORY_COLUMNS = ["epoch", "loss", "val_loss", "dice", "precision", "recall", "lr", "seconds", "images_per_second"] as const;

export function historyCsv(rows: readonly HistoryRow[]): string {
  const lines = [HISTORY_COLUMNS.join(",")];
  for (const row of rows) lines.push(HISTORY_COLUMNS.map((column) => formatCell(row[column])).join(","));
  return `${lines.join("\n")}\n`;
}

function formatCell(value: number | null): string {
  if (value === null) return "";
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(7)));
}
