/**
 * The JSON data block of a report page (`<script type="application/json" id="report-data">`):
 * every chart's numbers, keyed by the id its `<canvas data-chart>` names, plus the
 * run's (or runs') headline facts. The page script (page-assets.ts) draws from it, and
 * browser tests read it back through Chart.js.
 */
import type { ChartAxis, ReportChart } from "../../pipeline/report-section.js";
import type { MetricValue } from "../../pipeline/stage.js";
import { MARKER_COLOUR } from "./page-assets.js";

export interface PageSeries {
  readonly label: string;
  readonly x: readonly number[];
  readonly y: readonly (number | null)[];
  /** Index into the page palette. */
  readonly colour: number;
  /** Index into the page's dash patterns; 0 is a solid line. */
  readonly dash: number;
  /** A spread drawn as a thin vertical bar (e.g. mean ± std over folds), left out of the legend. */
  readonly errorBar?: boolean;
}

export interface PageMarker {
  readonly label: string;
  readonly x: number;
  readonly y: number;
  readonly colour: number;
}

export interface PageChart {
  readonly title: string;
  /** With `categories`, x values are indexes into them (a swept param of strings), labelled by name. */
  readonly x: ChartAxis & { readonly categories?: readonly string[] };
  readonly y: ChartAxis;
  readonly series: readonly PageSeries[];
  readonly markers: readonly PageMarker[];
}

export interface PageRun {
  readonly id: string;
  readonly experiment: string;
  readonly status: string;
  readonly metrics: Readonly<Record<string, MetricValue>>;
}

export interface PageData {
  readonly version: 1;
  readonly kind: "run" | "comparison" | "sweep";
  readonly runs: readonly PageRun[];
  /** `<stage id>/<chart id>` -> chart. */
  readonly charts: Readonly<Record<string, PageChart>>;
}

/** The id a stage's chart has on the page. */
export function chartKey(stageId: string, chartId: string): string {
  return `${stageId}/${chartId}`;
}

/** One run's chart: a colour per series, markers in the marker colour. */
export function runChart(chart: ReportChart): PageChart {
  return {
    title: chart.title,
    x: chart.x,
    y: chart.y,
    series: chart.series.map((s, i) => ({ label: s.label, x: s.x, y: s.y, colour: i, dash: 0 })),
    markers: (chart.markers ?? []).map((m) => ({ ...m, colour: MARKER_COLOUR })),
  };
}

/**
 * The same chart of several runs drawn together: a colour per run, a dash pattern per
 * series (the first solid), labels prefixed with the run's name. `charts[i]`
 * is run i's chart, undefined when that run has none.
 */
export function overlaidChart(charts: readonly (ReportChart | undefined)[], runNames: readonly string[]): PageChart {
  const first = charts.find((c): c is ReportChart => c !== undefined);
  if (first === undefined) throw new Error("overlaidChart needs at least one chart");
  const series: PageSeries[] = [];
  const markers: PageMarker[] = [];
  charts.forEach((chart, run) => {
    if (chart === undefined) return;
    const name = runNames[run] ?? `run ${run + 1}`;
    chart.series.forEach((s, i) => series.push({ label: `${name}: ${s.label}`, x: s.x, y: s.y, colour: run, dash: i }));
    for (const m of chart.markers ?? []) markers.push({ ...m, label: `${name}: ${m.label}`, colour: run });
  });
  return { title: first.title, x: mergedAxis(charts.map((c) => c?.x)), y: mergedAxis(charts.map((c) => c?.y)), series, markers };
}

/** The widest range of the runs' axes (e.g. 1..30 epochs and 1..12 epochs -> 1..30). */
function mergedAxis(axes: readonly (ChartAxis | undefined)[]): ChartAxis {
  const present = axes.filter((a): a is ChartAxis => a !== undefined);
  const first = present[0] ?? { label: "" };
  const mins = present.map((a) => a.min);
  const maxs = present.map((a) => a.max);
  return {
    label: first.label,
    ...(first.scale ? { scale: first.scale } : {}),
    ...(first.integer ? { integer: true } : {}),
    ...(mins.every((v): v is number => v !== undefined) ? { min: Math.min(...mins) } : {}),
    ...(maxs.every((v): v is number => v !== undefined) ? { max: Math.max(...maxs) } : {}),
  };
}
