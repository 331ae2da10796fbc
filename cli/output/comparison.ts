/**
 * `mu-pipe compare`: the params that differ between runs, then every metric side by
 * side with its change relative to the first run, as aligned text, markdown or JSON.
 */
import { unreachable } from "../../pipeline/failure.js";
import type { MetricValue } from "../../pipeline/stage.js";
import { formatMetricValue, formatSigned } from "./format.js";
import { renderMarkdownTable, renderTable, type Column } from "./table.js";

export interface ComparedRun {
  readonly id: string;
  readonly dir: string;
  readonly experiment: string;
  readonly status: string;
}

/** A leaf of a resolved config: a scalar, or a list of scalars kept whole. */
export type ParamValue = string | number | boolean | null | readonly (string | number | boolean | null)[];

export interface ParamRow {
  /** Flattened key path, e.g. `stages.finetune2.params.lr`. */
  readonly key: string;
  /** One per run, in run order; undefined where the run's config has no such key. */
  readonly values: readonly (ParamValue | undefined)[];
}

export interface Delta {
  /** value - first run's value. */
  readonly absolute: number;
  /** The change in percent of the first run's value; null when that is 0. */
  readonly percent: number | null;
}

export interface MetricRow {
  /** `stage.metric`, e.g. `evaluate.f1`. */
  readonly key: string;
  readonly values: readonly (MetricValue | undefined)[];
  /** One per run; null for the first run and wherever either value is not a number. */
  readonly deltas: readonly (Delta | null)[];
}

export interface Comparison {
  readonly runs: readonly ComparedRun[];
  readonly params: readonly ParamRow[];
  readonly metrics: readonly MetricRow[];
  /**
   * What each stage ran on (`finetune2.backend`, `finetune2.threads`), from run.json:
   * not metrics, so shown apart; empty when no stage reported any.
   */
  readonly environment: readonly ParamRow[];
  /** Runs whose config.yaml could not be read (their params show as unset). */
  readonly missingConfig: readonly string[];
}

export type ComparisonFormat = "table" | "md" | "json";

export function renderComparison(comparison: Comparison, format: ComparisonFormat): string {
  switch (format) {
    case "json":
      return comparisonAsJson(comparison);
    case "md":
      return comparisonAsMarkdown(comparison);
    case "table":
      return comparisonAsText(comparison);
    default:
      return unreachable(format);
  }
}

/** Text keeps each delta in a column of its own after its run, so values line up. */
function comparisonAsText(c: Comparison): string {
  let text = warnings(c).map((line) => `${line}\n`).join("");
  text += "params that differ\n";
  text +=
    c.params.length === 0
      ? "  (none)\n"
      : renderTable([{ header: "KEY" }, ...c.runs.map((run): Column => ({ header: run.id }))], paramCells(c), { indent: "  " });
  text += environmentText(c);
  text += "\nmetrics\n";
  if (c.metrics.length === 0) return `${text}  (none)\n`;
  const deltaText = (row: MetricRow, i: number): string => {
    const delta = row.deltas[i];
    return delta && delta.absolute !== 0 ? formatDelta(delta) : "";
  };
  // A run whose metrics all equal the first run's gets no Δ column.
  const showDelta = c.runs.map((_, i) => i > 0 && c.metrics.some((row) => deltaText(row, i) !== ""));
  const columns: Column[] = [{ header: "METRIC" }];
  c.runs.forEach((run, i) => {
    columns.push({ header: run.id, align: "right" });
    if (showDelta[i]) columns.push({ header: "Δ", align: "right" });
  });
  const rows = c.metrics.map((row) => {
    const cells = [row.key];
    row.values.forEach((value, i) => {
      cells.push(formatMetricValue(value));
      if (showDelta[i]) cells.push(deltaText(row, i));
    });
    return cells;
  });
  return text + renderTable(columns, rows, { indent: "  " });
}

/** Markdown puts the delta in the run's cell: `0.8812 (+0.0078, +0.9%)`. */
function comparisonAsMarkdown(c: Comparison): string {
  const code = (key: string): string => `\`${key}\``;
  const runColumns = (align: Column["align"]): Column[] => c.runs.map((run) => ({ header: run.id, align }));
  let text = warnings(c).map((line) => `> ${line}\n\n`).join("");
  text += "### Params that differ\n\n";
  text +=
    c.params.length === 0
      ? "_None._\n"
      : renderMarkdownTable([{ header: "param" }, ...runColumns("left")], paramCells(c).map(([key = "", ...rest]) => [code(key), ...rest]));
  if (c.environment.length > 0) {
    text += "\n### Environment\n\n";
    text += renderMarkdownTable([{ header: "stage.key" }, ...runColumns("left")], c.environment.map((row) => [code(row.key), ...row.values.map(formatParam)]));
  }
  text += "\n### Metrics\n\n";
  text +=
    c.metrics.length === 0
      ? "_None._\n"
      : renderMarkdownTable([{ header: "metric" }, ...runColumns("right")], markdownMetricCells(c).map(([key = "", ...rest]) => [code(key), ...rest]));
  return text;
}

function comparisonAsJson(c: Comparison): string {
  const unset = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
  return `${JSON.stringify(
    {
      runs: c.runs,
      params: c.params.map((row) => ({ key: row.key, values: row.values.map(unset), set: row.values.map((v) => v !== undefined) })),
      metrics: c.metrics.map((row) => ({ key: row.key, values: row.values.map(unset), deltas: row.deltas })),
      environment: c.environment.map((row) => ({ key: row.key, values: row.values.map(unset) })),
      missingConfig: c.missingConfig,
    },
    null,
    2,
  )}\n`;
}

function environmentText(c: Comparison): string {
  if (c.environment.length === 0) return "";
  const rows = c.environment.map((row) => [row.key, ...row.values.map(formatParam)]);
  return "\nenvironment (what the stages ran on)\n" + renderTable([{ header: "KEY" }, ...c.runs.map((run): Column => ({ header: run.id }))], rows, { indent: "  " });
}

/** Only the metric and environment rows whose values differ between the runs (params differ already). */
export function changedOnly(c: Comparison): Comparison {
  const differs = (values: readonly unknown[]): boolean => values.some((value) => JSON.stringify(value) !== JSON.stringify(values[0]));
  return { ...c, metrics: c.metrics.filter((row) => differs(row.values)), environment: c.environment.filter((row) => differs(row.values)) };
}

function warnings(c: Comparison): string[] {
  return c.missingConfig.map((id) => `note: ${id} has no readable config.yaml; its params show as (unset)`);
}

function paramCells(c: Comparison): string[][] {
  return c.params.map((row) => [row.key, ...row.values.map(formatParam)]);
}

function markdownMetricCells(c: Comparison): string[][] {
  return c.metrics.map((row) => [
    row.key,
    ...row.values.map((value, i) => {
      const delta = row.deltas[i];
      return delta && delta.absolute !== 0 ? `${formatMetricValue(value)} (${formatDelta(delta)})` : formatMetricValue(value);
    }),
  ]);
}

/** `+0.0078, +0.9%` */
export function formatDelta(delta: Delta): string {
  const percent = delta.percent === null ? "" : `, ${delta.percent > 0 ? "+" : ""}${delta.percent.toFixed(1)}%`;
  return `${formatSigned(delta.absolute)}${percent}`;
}

export function formatParam(value: ParamValue | undefined): string {
  if (value === undefined) return "(unset)";
  if (Array.isArray(value)) return `[${value.map((v) => formatParam(v as ParamValue)).join(", ")}]`;
  return String(value);
}
