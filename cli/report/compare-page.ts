/**
 * `mu-pipe compare --format html`: the runs side by side (a colour each), the params
 * that differ, every metric with its change against the first run, and each stage's
 * charts with every run's curves drawn over each other.
 */
import type { ReportChart } from "../../pipeline/report-section.js";
import type { Comparison } from "../output/comparison.js";
import { deltaSpan } from "./delta-html.js";
import { formatParam } from "../output/comparison.js";
import { formatDuration, formatMetricValue, formatTimestamp } from "../output/format.js";
import type { RunSummary } from "../run-lookup.js";
import { chartKey, overlaidChart, type PageChart, type PageData } from "./chart-data.js";
import { escapeHtml, htmlTable, raw, renderPage, statusBadge, type Cell } from "./html.js";
import { PALETTE } from "./page-assets.js";
import { canvasHtml } from "./section-html.js";
import type { StageSections } from "./stage-sections.js";

export interface ComparisonPageInput {
  readonly comparison: Comparison;
  readonly runs: readonly RunSummary[];
  /** `sections[i]`: run i's stage sections (only their charts are drawn). */
  readonly sections: readonly (readonly StageSections[])[];
}

export async function renderComparisonPage(input: ComparisonPageInput): Promise<string> {
  const { comparison, runs } = input;
  const names = runNames(runs);
  const groups = chartGroups(input.sections);
  const charts: Record<string, PageChart> = {};
  const stageParts: string[] = [];
  for (const [stageId, byChart] of groups) {
    const canvases: string[] = [];
    for (const [chartId, perRun] of byChart) {
      const key = chartKey(stageId, chartId);
      charts[key] = overlaidChart(perRun, names);
      canvases.push(canvasHtml(key, charts[key].title, runs.length > 1));
    }
    stageParts.push(`<section class="stage-section" data-stage="${escapeHtml(stageId)}"><h2>${escapeHtml(stageId)}</h2><div class="charts">${canvases.join("")}</div></section>`);
  }

  const data: PageData = {
    version: 1,
    kind: "comparison",
    runs: runs.map((run, i) => ({
      id: run.id,
      experiment: run.experiment,
      status: run.status,
      metrics: Object.fromEntries(comparison.metrics.filter((row) => row.values[i] !== undefined).map((row) => [row.key, row.values[i] ?? null])),
    })),
    charts,
  };

  const runRows = runs.map((run, i): Cell[] => [
    raw(`<span class="swatch" style="background:${PALETTE[i % PALETTE.length] ?? "#000"}"></span> ${escapeHtml(names[i] ?? run.id)}`),
    run.id,
    run.experiment,
    raw(statusBadge(run.status)),
    formatTimestamp(run.startedAt),
    run.durationMs === null ? null : formatDuration(run.durationMs),
  ]);
  const body = [
    `<header><h1>Comparing ${runs.length} runs</h1>${htmlTable(["", "run", "experiment", "status", "started", "duration"], runRows)}</header>`,
    comparison.missingConfig.length > 0 ? `<p class="note">No readable config.yaml in ${escapeHtml(comparison.missingConfig.join(", "))}; their params show as (unset).</p>` : "",
    `<section id="params"><h2>Params that differ</h2>${paramsHtml(comparison, names)}</section>`,
    comparison.environment.length > 0 ? `<section id="environment"><h2>What the stages ran on</h2>${environmentHtml(comparison, names)}</section>` : "",
    `<section id="metrics"><h2>Metrics</h2>${metricsHtml(comparison, names)}</section>`,
    stageParts.length > 0 ? stageParts.join("\n") : '<section><p class="note">None of these runs has curves to draw.</p></section>',
  ].join("\n");
  return renderPage({ title: `mu-pipe compare: ${runs.map((r) => r.id).join(" vs ")}`, body, data });
}

/** Run ids without the experiment name when all runs share it (the legend stays short). */
export function runNames(runs: readonly RunSummary[]): string[] {
  const experiment = runs[0]?.experiment;
  const shared = experiment !== undefined && runs.every((run) => run.experiment === experiment && run.id.endsWith(`-${experiment}`));
  const names = runs.map((run) => (shared ? run.id.slice(0, -(experiment.length + 1)) : run.id));
  // The same run twice (or ids that only differ in the experiment): number them.
  return names.map((name, i) => (names.indexOf(name) === i ? name : `${name} (${i + 1})`));
}

/** stage id -> chart id -> each run's chart, in the order the runs' stages first show them. */
export function chartGroups(sections: readonly (readonly StageSections[])[]): Map<string, Map<string, (ReportChart | undefined)[]>> {
  const groups = new Map<string, Map<string, (ReportChart | undefined)[]>>();
  sections.forEach((stages, run) => {
    for (const stage of stages) {
      for (const section of stage.sections) {
        for (const block of section.blocks) {
          if (block.kind !== "chart") continue;
          const byChart = groups.get(stage.stageId) ?? new Map<string, (ReportChart | undefined)[]>();
          groups.set(stage.stageId, byChart);
          const perRun = byChart.get(block.id) ?? sections.map(() => undefined);
          byChart.set(block.id, perRun);
          perRun[run] = block;
        }
      }
    }
  });
  return groups;
}

function paramsHtml(comparison: Comparison, names: readonly string[]): string {
  if (comparison.params.length === 0) return '<p class="note">None: the runs have the same config.</p>';
  const rows = comparison.params.map((row) => [raw(`<code>${escapeHtml(row.key)}</code>`), ...row.values.map(formatParam)]);
  return htmlTable(["param", ...names], rows);
}

function environmentHtml(comparison: Comparison, names: readonly string[]): string {
  const rows = comparison.environment.map((row) => [raw(`<code>${escapeHtml(row.key)}</code>`), ...row.values.map(formatParam)]);
  return htmlTable(["stage.key", ...names], rows);
}

/** One row per metric, the stage named on the first row of its group; changes against the first run. */
function metricsHtml(comparison: Comparison, names: readonly string[]): string {
  if (comparison.metrics.length === 0) return '<p class="note">None of these runs has metrics.</p>';
  let lastStage: string | null = null;
  const rows = comparison.metrics.map((row) => [
    ...stageAndName(row.key),
    ...row.values.map((value, i): Cell => {
      const delta = row.deltas[i];
      if (!delta || delta.absolute === 0) return formatMetricValue(value);
      return raw(`${escapeHtml(formatMetricValue(value))} ${deltaSpan(row.key, delta)}`);
    }),
  ]);
  return htmlTable(["stage", "metric", ...names], rows, { numeric: names.map((_, i) => i + 2) });

  function stageAndName(key: string): [Cell, string] {
    const dot = Math.max(0, key.indexOf("."));
    const stage = key.slice(0, dot);
    const first = stage !== lastStage;
    lastStage = stage;
    return [first ? raw(`<strong>${escapeHtml(stage)}</strong>`) : "", key.slice(dot + 1)];
  }
}
