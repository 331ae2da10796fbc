/**
 * One run's report.html: a header (experiment, run, status, duration, backend), the
 * metrics (with changes since the previous run), the stages (time, ran or reused from
 * the cache, failed or skipped and why), the stage types' own sections, then the
 * config and what changed in it.
 */
import type { StageRunEntry } from "../../pipeline/formats.js";
import { formatDuration, formatMetricValue, formatTimestamp } from "../output/format.js";
import { formatParam } from "../output/comparison.js";
import { stageStatusIn, statusText } from "../output/run-status.js";
import { runChart, type PageData } from "./chart-data.js";
import { escapeHtml, factList, htmlTable, raw, renderPage, statusBadge, type Cell } from "./html.js";
import type { MetricRow } from "../output/comparison.js";
import type { RunReport } from "./run-report.js";
import { renderStageSections } from "./section-html.js";
import { deltaSpan } from "./delta-html.js";

export async function renderRunPage(report: RunReport): Promise<string> {
  const { run } = report;
  const record = run.record;
  const sections = await renderStageSections(report.sections, (_stage, chart) => runChart(chart));
  const data: PageData = {
    version: 1,
    kind: "run",
    runs: [{ id: run.id, experiment: run.experiment, status: run.status, metrics: Object.fromEntries(report.metrics.map((row) => [row.key, row.values[row.values.length - 1] ?? null])) }],
    charts: sections.charts,
  };

  const facts: [string, Cell][] = [
    ["run", run.id],
    ["status", raw(statusBadge(run.status, statusText(run)))],
    ["started", formatTimestamp(run.startedAt)],
    ["duration", run.durationMs === null ? null : formatDuration(run.durationMs)],
    ["backend", report.backends.length > 0 ? report.backends.join("; ") : null],
  ];
  if (record) {
    facts.push(["config", record.configFile], ["command", `mu-pipe ${record.argv.join(" ")}`], ["host", record.hostname]);
  }
  if (run.problem) facts.push(["problem", run.problem]);

  const body = [
    `<header><h1>${escapeHtml(run.experiment)}</h1>${factList(facts)}</header>`,
    `<section id="changes"><h2>Changed since the previous run</h2>${changesHtml(report)}</section>`,
    `<section id="metrics"><h2>Metrics</h2>${metricsHtml(report)}</section>`,
    `<section id="stages"><h2>Stages</h2>${stagesHtml(record?.stages ?? [], run)}</section>`,
    sections.html,
    `<section id="config"><h2>Config</h2>${report.configText === null ? '<p class="note">No config.yaml in the run folder.</p>' : `<pre>${escapeHtml(report.configText)}</pre>`}</section>`,
  ].join("\n");
  return renderPage({ title: `${run.experiment} · ${run.id}`, body, data });
}

/** One small table per stage (keys are `stage.metric`); with a previous run, its values and the change. */
function metricsHtml(report: RunReport): string {
  if (report.metrics.length === 0) return '<p class="note">No metrics: no stage finished.</p>';
  const byStage = new Map<string, MetricRow[]>();
  for (const row of report.metrics) {
    const stage = row.key.slice(0, Math.max(0, row.key.indexOf(".")));
    byStage.set(stage, [...(byStage.get(stage) ?? []), row]);
  }
  const previous = report.previous;
  const tables = [...byStage].map(([stage, rows]) => {
    const name = (row: MetricRow): string => row.key.slice(stage.length + 1);
    const table =
      previous === null
        ? htmlTable(["metric", "value"], rows.map((row) => [name(row), formatMetricValue(row.values[0])]), { numeric: [1] })
        : htmlTable(
            ["metric", "value", "previous", "change"],
            rows.map((row) => {
              const delta = row.deltas[1];
              return [name(row), formatMetricValue(row.values[1]), formatMetricValue(row.values[0]), delta && delta.absolute !== 0 ? raw(deltaSpan(row.key, delta, false)) : ""];
            }),
            { numeric: [1, 2, 3], columnClass: { 3: "nowrap" } },
          );
    return `<div><h3>${escapeHtml(stage)}</h3>${table}</div>`;
  });
  return `<div class="metric-grid${previous === null ? "" : " with-previous"}">${tables.join("")}</div>`;
}

/** What each status means to a reader; `succeeded` reads as "ran" beside "reused (cache hit)". */
const STATUS_TEXT: Record<StageRunEntry["status"], string> = {
  succeeded: "ran",
  reused: "reused (cache hit)",
  failed: "failed",
  interrupted: "interrupted",
  skipped: "skipped",
  pending: "not run",
  running: "running",
};

function stagesHtml(stages: readonly StageRunEntry[], run: RunReport["run"]): string {
  if (stages.length === 0) return '<p class="note">run.json lists no stages.</p>';
  const longest = Math.max(1, ...stages.map((s) => (s.status === "reused" ? 0 : (s.durationMs ?? 0))));
  const rows = stages.map((stage): Cell[] => {
    const ran = stage.status !== "reused" && stage.durationMs !== null;
    const width = ran ? Math.max(0.5, ((stage.durationMs ?? 0) / longest) * 100) : 0;
    const status = stageStatusIn(run, stage.status);
    const badge = status === "succeeded" ? "ran" : status;
    return [
      stage.id,
      stage.uses,
      raw(statusBadge(badge, status === "died" ? "died (its process is gone)" : STATUS_TEXT[status])),
      ran ? formatDuration(stage.durationMs ?? 0) : stage.status === "reused" ? cachedTime(stage) : null,
      raw(ran ? `<div class="bar" style="width:${width.toFixed(1)}%"></div>` : ""),
      stage.error ? raw(`<span class="error">${escapeHtml(stage.error)}</span>`) : stage.reason || null,
    ];
  });
  return htmlTable(["stage", "type", "status", "time", "", "why"], rows, { numeric: [3], className: "wide stages", columnClass: { 4: "barcell" } });
}

/** A reused stage's time: none now, and what computing it took once (when the record says). */
function cachedTime(stage: StageRunEntry): string {
  return stage.computedMs === undefined ? "cached" : `cached (took ${formatDuration(stage.computedMs)})`;
}

/** More changed params than this are folded away behind a summary line. */
const MAX_OPEN_CHANGES = 12;

function changesHtml(report: RunReport): string {
  if (report.previous === null) return '<p class="note">The first run of this experiment in this runs folder: nothing to compare with.</p>';
  const title = `<p class="note">Params of the config that differ from the previous run of this experiment, ${escapeHtml(report.previous.id)}.</p>`;
  if (report.previous.params.length === 0) return `${title}<p class="note">None: the same config.</p>`;
  const rows = report.previous.params.map((row) => [raw(`<code>${escapeHtml(row.key)}</code>`), formatParam(row.values[0]), formatParam(row.values[1])]);
  const table = htmlTable(["param", "previous run", "this run"], rows);
  // A reshaped experiment (stages added) can differ in dozens of params: keep the page scannable.
  if (rows.length <= MAX_OPEN_CHANGES) return `${title}${table}`;
  return `${title}<details><summary>${rows.length} params differ (show them)</summary>${table}</details>`;
}
