/**
 * `mu-pipe sweep show --format html`: the results table, a chart of each metric against
 * each swept param (means, with the spread over folds or seeds as error bars; a series
 * per setting of the other params), each metric per fold, and every combination's
 * training curves drawn over each other.
 */
import type { ResultRow } from "../../pipeline/sweep/aggregate.js";
import type { SweepResults } from "../sweep-results.js";
import { formatValue, formatSummary, heading, isBest, rowStatus, type SweepTable } from "../output/sweep-table.js";
import { chartKey, overlaidChart, type PageChart, type PageSeries, type PageData } from "./chart-data.js";
import { chartGroups } from "./compare-page.js";
import { escapeHtml, htmlTable, raw, renderPage, statusBadge, type Cell } from "./html.js";
import { canvasHtml } from "./section-html.js";
import type { StageSections } from "./stage-sections.js";

export interface SweepPageInput {
  readonly table: SweepTable;
  readonly results: SweepResults;
  /** `sections[i]`: combination i's stage sections (only their charts are drawn); empty when it has no run. */
  readonly sections: readonly (readonly StageSections[])[];
}

export async function renderSweepPage(input: SweepPageInput): Promise<string> {
  const { table, results } = input;
  const charts: Record<string, PageChart> = {};
  const metricParts: string[] = [];
  for (const metric of table.metrics) {
    const canvases: string[] = [];
    for (const key of table.columns) {
      const chart = metricAgainstParam(table, metric, key.key, key.short);
      if (!chart) continue;
      const id = `sweep/${metric}/${key.key}`;
      charts[id] = chart;
      canvases.push(canvasHtml(id, chart.title));
    }
    for (const key of table.repeats) {
      const id = `sweep/${metric}/${key.key}`;
      charts[id] = metricPerRepeat(table, metric, key.key, key.short);
      canvases.push(canvasHtml(id, charts[id].title));
    }
    if (canvases.length > 0) metricParts.push(`<div class="charts" data-metric="${escapeHtml(metric)}">${canvases.join("")}</div>`);
  }

  const names = results.sweep.combinations.map((c) => c.label);
  const curveParts: string[] = [];
  for (const [stageId, byChart] of chartGroups(input.sections)) {
    const canvases: string[] = [];
    for (const [chartId, perRun] of byChart) {
      const key = chartKey(stageId, chartId);
      charts[key] = overlaidChart(perRun, names);
      canvases.push(canvasHtml(key, charts[key].title, true));
    }
    curveParts.push(`<section class="stage-section" data-stage="${escapeHtml(stageId)}"><h2>${escapeHtml(stageId)}: every run</h2><div class="charts">${canvases.join("")}</div></section>`);
  }

  const data: PageData = {
    version: 1,
    kind: "sweep",
    runs: results.combinations.map((c) => ({ id: c.runId ?? c.label, experiment: results.sweep.experiment, status: c.status, metrics: Object.fromEntries(c.metrics) })),
    charts,
  };
  const body = [
    `<header><h1>Sweep ${escapeHtml(results.sweep.id)}</h1><p>${escapeHtml(heading(table))}</p></header>`,
    `<section id="results"><h2>Results</h2>${resultsHtml(table)}</section>`,
    metricParts.length > 0 ? `<section id="metric-charts"><h2>Metrics against the swept params</h2>${metricParts.join("\n")}</section>` : "",
    `<section id="runs"><h2>Runs</h2>${runsHtml(results)}</section>`,
    curveParts.length > 0 ? curveParts.join("\n") : '<section><p class="note">None of these runs has curves to draw.</p></section>',
  ].join("\n");
  return renderPage({ title: `mu-pipe sweep: ${results.sweep.id}`, body, data });
}

function resultsHtml(table: SweepTable): string {
  const rows = table.rows.map((row): Cell[] => [
    isBest(table, row) ? raw(statusBadge("succeeded", "best")) : "",
    ...table.columns.map((k) => formatValue(row.values[k.key])),
    `${row.succeeded}/${row.combinations.length}`,
    raw(statusBadge(row.failed > 0 ? "failed" : row.unfinished > 0 ? "running" : "succeeded", rowStatus(row))),
    ...table.metrics.map((m) => formatSummary(row.metrics[m])),
  ]);
  const first = table.columns.length + 3;
  return htmlTable(["", ...table.columns.map((k) => k.short), "runs", "status", ...table.metrics], rows, {
    className: "sweep-results",
    numeric: table.metrics.map((_, i) => first + i),
  });
}

function runsHtml(results: SweepResults): string {
  const rows = results.combinations.map((c): Cell[] => [c.label, c.runId ?? "-", raw(statusBadge(c.status))]);
  return htmlTable(["combination", "run", "status"], rows);
}

/** Mean of `metric` against the values of `key`: a series per setting of the other params, error bars of ± std. */
function metricAgainstParam(table: SweepTable, metric: string, key: string, short: string): PageChart | null {
  const values = uniqueValues(table.rows.map((row) => row.values[key]));
  if (values.length < 2) return null;
  const numeric = values.every((v): v is number => typeof v === "number");
  const sorted = numeric ? [...values].sort((a, b) => a - b) : values;
  const xOf = (value: unknown): number => (numeric ? (value as number) : sorted.findIndex((v) => JSON.stringify(v) === JSON.stringify(value)));
  const others = table.columns.filter((k) => k.key !== key);
  const bySetting = new Map<string, ResultRow[]>();
  for (const row of table.rows) {
    const setting = others.map((k) => `${k.short}=${formatValue(row.values[k.key])}`).join(", ");
    bySetting.set(setting, [...(bySetting.get(setting) ?? []), row]);
  }
  const series: PageSeries[] = [];
  [...bySetting.entries()].forEach(([setting, rows], colour) => {
    const points = rows
      .filter((row) => row.metrics[metric] !== undefined)
      .map((row) => ({ x: xOf(row.values[key]), summary: row.metrics[metric] as NonNullable<ResultRow["metrics"][string]> }))
      .sort((a, b) => a.x - b.x);
    const name = setting === "" ? metric : setting;
    series.push({ label: name, x: points.map((p) => p.x), y: points.map((p) => p.summary.mean), colour, dash: 0 });
    for (const p of points) {
      if (p.summary.std === null) continue;
      series.push({ label: `${name} ± std`, x: [p.x, p.x], y: [p.summary.mean - p.summary.std, p.summary.mean + p.summary.std], colour, dash: 0, errorBar: true });
    }
  });
  const positive = numeric && (sorted as number[]).every((v) => v > 0);
  const decades = positive ? Math.log10(Math.max(...(sorted as number[])) / Math.min(...(sorted as number[]))) : 0;
  return {
    title: `${metric} against ${short}`,
    x: numeric ? { label: short, ...(decades >= 1 ? { scale: "log" as const } : {}) } : { label: short, categories: sorted.map((v) => formatValue(v)), integer: true },
    y: { label: metric },
    series,
    markers: [],
  };
}

/** Each run's `metric` against its fold (or seed): the spread the error bars summarise, a series per row. */
function metricPerRepeat(table: SweepTable, metric: string, key: string, short: string): PageChart {
  const series: PageSeries[] = table.rows.map((row, colour) => {
    const points = row.combinations
      .filter((c) => c.status === "succeeded" && c.metrics.has(metric) && typeof c.values[key] === "number")
      .map((c) => ({ x: c.values[key] as number, y: c.metrics.get(metric) as number }))
      .sort((a, b) => a.x - b.x);
    const label = table.columns.map((k) => `${k.short}=${formatValue(row.values[k.key])}`).join(", ");
    return { label: label === "" ? metric : label, x: points.map((p) => p.x), y: points.map((p) => p.y), colour, dash: 0 };
  });
  return { title: `${metric} per ${short}`, x: { label: short, integer: true }, y: { label: metric }, series, markers: [] };
}

function uniqueValues(values: readonly unknown[]): unknown[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const id = JSON.stringify(v ?? null);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
