/**
 * `mu-pipe sweep show`: one row per setup of a sweep (folds and seeds averaged), the
 * swept values, how many runs succeeded, and each metric as mean ± std, best first.
 */
import type { RunStatus, SweepRecord } from "../../pipeline/formats.js";
import { aggregateSweep, defaultDirection, sortRows, type MetricSummary, type ResultRow, type SortDirection } from "../../pipeline/sweep/aggregate.js";
import type { SweepResults } from "../sweep-results.js";
import { formatNumber } from "./format.js";
import { renderMarkdownTable, renderTable, type Column } from "./table.js";

export type SweepTableFormat = "table" | "json" | "csv" | "md";

export interface SweepTable {
  readonly sweep: SweepRecord;
  /** Keys that get a column (the repeats are averaged over instead). */
  readonly columns: SweepRecord["keys"];
  readonly repeats: SweepRecord["keys"];
  readonly metrics: readonly string[];
  readonly sort: { readonly metric: string; readonly direction: SortDirection } | null;
  /** Best first when sorted; the best row is rows[0] when it has the sort metric. */
  readonly rows: readonly ResultRow[];
}

export function buildSweepTable(results: SweepResults, metrics: readonly string[], sort: { metric: string; direction?: SortDirection } | null): SweepTable {
  const { sweep } = results;
  const rows = aggregateSweep(sweep.keys, results.combinations, metrics);
  const chosen = sort ? { metric: sort.metric, direction: sort.direction ?? defaultDirection(sort.metric) } : null;
  return {
    sweep,
    columns: sweep.keys.filter((k) => !k.repeat),
    repeats: sweep.keys.filter((k) => k.repeat),
    metrics,
    sort: chosen,
    rows: chosen ? sortRows(rows, chosen.metric, chosen.direction) : rows,
  };
}

/** Whether a row is the best: the first row when sorted, if it has the metric. */
export function isBest(table: SweepTable, row: ResultRow): boolean {
  return table.sort !== null && table.rows[0] === row && table.sort.metric in row.metrics && table.rows.length > 1;
}

export function renderSweepTable(table: SweepTable, format: SweepTableFormat): string {
  switch (format) {
    case "json":
      return `${JSON.stringify(sweepTableJson(table), null, 2)}\n`;
    case "csv":
      return sweepTableCsv(table);
    case "md":
      return `${heading(table)}\n\n${renderMarkdownTable(...textTable(table))}`;
    case "table":
      return `${heading(table)}\n${renderTable(...textTable(table))}`;
  }
}

/** What the table says above the rows: the sweep, its runs, and how spreads are computed. */
export function heading(table: SweepTable): string {
  const { sweep } = table;
  const total = sweep.combinations.length;
  const repeats = table.repeats.map((k) => k.short).join(", ");
  const spread = repeats ? `; metrics: mean ± sample std (n-1) over ${repeats}` : "";
  const marked = table.rows.length > 1 ? ", * best" : "";
  const sorted = table.sort ? `; sorted by ${table.sort.metric} (${table.sort.direction === "asc" ? "lower" : "higher"} is better)${marked}` : "";
  return `sweep ${sweep.id} (${sweep.status}): ${total} run${total === 1 ? "" : "s"}${spread}${sorted}`;
}

export function formatValue(value: unknown): string {
  if (value === undefined) return "-";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function formatSummary(summary: MetricSummary | undefined): string {
  if (!summary) return "-";
  return summary.std === null ? formatNumber(summary.mean) : `${formatNumber(summary.mean)} ± ${formatNumber(summary.std)}`;
}

/** `ok`, or what went wrong: `1 failed`, `2 pending`. */
export function rowStatus(row: ResultRow): string {
  if (row.failed === 0 && row.unfinished === 0) return "ok";
  const unfinished = new Map<string, number>();
  for (const c of row.combinations) if (c.status !== "succeeded" && c.status !== "failed") unfinished.set(c.status, (unfinished.get(c.status) ?? 0) + 1);
  return [...(row.failed > 0 ? [`${row.failed} failed`] : []), ...[...unfinished].map(([status, n]) => `${n} ${status}`)].join(", ");
}

function textTable(table: SweepTable): [Column[], string[][]] {
  const columns: Column[] = [
    { header: "" },
    ...table.columns.map((k): Column => ({ header: k.short })),
    { header: "runs", align: "right" },
    { header: "status" },
    ...table.metrics.map((m): Column => ({ header: m, align: "right" })),
  ];
  const rows = table.rows.map((row) => [
    isBest(table, row) ? "*" : "",
    ...table.columns.map((k) => formatValue(row.values[k.key])),
    `${row.succeeded}/${row.combinations.length}`,
    rowStatus(row),
    ...table.metrics.map((m) => formatSummary(row.metrics[m])),
  ]);
  return [columns, rows];
}

function sweepTableJson(table: SweepTable): unknown {
  return {
    version: 1,
    sweep: table.sweep.id,
    experiment: table.sweep.experiment,
    status: table.sweep.status,
    keys: table.sweep.keys,
    std: "sample (n-1)",
    sort: table.sort,
    rows: table.rows.map((row) => ({
      best: isBest(table, row),
      values: row.values,
      runs: row.combinations.length,
      succeeded: row.succeeded,
      failed: row.failed,
      unfinished: row.unfinished,
      metrics: row.metrics,
      combinations: row.combinations.map((c) => ({ label: c.label, run: c.runId, status: c.status })),
    })),
  };
}

function sweepTableCsv(table: SweepTable): string {
  const header = [
    ...table.columns.map((k) => k.key),
    "runs",
    "succeeded",
    "failed",
    "unfinished",
    ...table.metrics.flatMap((m) => [`${m}.mean`, `${m}.std`, `${m}.n`]),
    "best",
  ];
  const lines = table.rows.map((row) => [
    ...table.columns.map((k) => formatValue(row.values[k.key])),
    String(row.combinations.length),
    String(row.succeeded),
    String(row.failed),
    String(row.unfinished),
    ...table.metrics.flatMap((m) => {
      const s = row.metrics[m];
      return s ? [String(s.mean), s.std === null ? "" : String(s.std), String(s.n)] : ["", "", "0"];
    }),
    isBest(table, row) ? "true" : "false",
  ]);
  return [header, ...lines].map((cells) => cells.map(csvCell).join(",")).join("\n") + "\n";
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The sweep's last line: how many runs ended how. */
export function renderRunEnd(id: string, total: number, ended: readonly RunStatus[]): string {
  const count = (status: RunStatus): number => ended.filter((s) => s === status).length;
  const parts = [`${count("succeeded")} succeeded`];
  if (count("failed") > 0) parts.push(`${count("failed")} failed`);
  if (count("interrupted") > 0) parts.push(`${count("interrupted")} interrupted`);
  if (ended.length < total) parts.push(`${total - ended.length} not run`);
  return `[sweep] ${id}: ${parts.join(", ")} of ${total} -> mu-pipe sweep show ${id}`;
}
