/**
 * `mu-pipe runs`: one row per run, newest first, with up to three headline metrics.
 */
import type { MetricValue } from "../../pipeline/stage.js";
import { flattenRunMetrics, type RunSummary } from "../run-lookup.js";
import { GROUP_FIGURE, formatDuration, formatMetricValue, formatTimestamp } from "./format.js";
import { renderTable, type Column } from "./table.js";

/** Metric names that read as a model's quality, best first: the plain figure before its variants. */
const HEADLINE = [/^f1$/i, /f1/i, /dice/i, /loss/i] as const;

/**
 * Spreads (`f1_std`) qualify a figure; they are not headlines themselves. Nor are the
 * figures of one breakdown group (`kind=webcam.f1`, see pickGroupMetrics).
 */
const NOT_HEADLINE = /_std$|=/i;


/**
 * Up to `max` flattened metric keys (`evaluate.f1`) worth a column: numeric metrics whose
 * name contains f1, dice or loss (not their `_std`). Keys most runs have come first, then
 * `f1` itself before other f1s before dice before loss, then later stages (closer to the
 * final model) before earlier ones.
 */
export function pickHeadlineMetrics(runs: readonly RunSummary[], max = 3): string[] {
  const seen = new Map<string, { count: number; rank: number; position: number }>();
  for (const run of runs) {
    const flat = [...flattenRunMetrics(run)];
    flat.forEach(([key, value], position) => {
      if (typeof value !== "number") return;
      const name = key.slice(key.indexOf(".") + 1);
      const rank = NOT_HEADLINE.test(name) ? -1 : HEADLINE.findIndex((pattern) => pattern.test(name));
      if (rank < 0) return;
      const entry = seen.get(key);
      if (entry) {
        entry.count += 1;
        entry.position = Math.max(entry.position, position);
      } else {
        seen.set(key, { count: 1, rank, position });
      }
    });
  }
  return [...seen.entries()]
    .sort(([ka, a], [kb, b]) => b.count - a.count || a.rank - b.rank || b.position - a.position || ka.localeCompare(kb))
    .slice(0, max)
    .map(([key]) => key);
}

/**
 * The flattened keys of one figure (`pooled_f1`) of the breakdown groups that split the
 * runs' images (`evaluate.kind=unityeyes.pooled_f1`, `evaluate.kind=webcam.pooled_f1`),
 * in the order they first appear: the columns that show each group apart. An attribute
 * counts when it has two values or more and, where the group sizes are known
 * (`<group>.images`), every image has it: `kind` on real photos, renders and close-ups
 * does, a synthetic eye's `iris` (close-ups only) or a lone `source=folders` does not.
 * At most `max` columns.
 */
export function pickGroupMetrics(runs: readonly RunSummary[], figure = "pooled_f1", max = 8): string[] {
  const keys = new Set<string>();
  for (const run of runs) {
    const flat = flattenRunMetrics(run);
    const attributes = new Map<string, { keys: string[]; images: number | null }>();
    for (const [key, value] of flat) {
      const stage = key.slice(0, key.indexOf("."));
      const match = GROUP_FIGURE.exec(key.slice(stage.length + 1));
      if (typeof value !== "number" || match?.[2] !== figure) continue;
      const group = `${stage}.${match[1]}`; // evaluate.kind=webcam
      const attribute = group.slice(0, group.indexOf("=")); // evaluate.kind
      const entry = attributes.get(attribute) ?? { keys: [], images: 0 };
      attributes.set(attribute, entry);
      entry.keys.push(key);
      const images = flat.get(`${group}.images`);
      entry.images = typeof images === "number" && entry.images !== null ? entry.images + images : null;
    }
    for (const [attribute, entry] of attributes) {
      const total = flat.get(`${attribute.slice(0, attribute.indexOf("."))}.images`);
      const coversAll = entry.images === null || typeof total !== "number" || entry.images === total;
      if (entry.keys.length >= 2 && coversAll) entry.keys.forEach((key) => keys.add(key));
    }
  }
  return [...keys].slice(0, max);
}

export function renderRunsTable(runs: readonly RunSummary[], metricKeys: readonly string[]): string {
  if (runs.length === 0) return "no runs yet\n";
  const columns: Column[] = [
    { header: "RUN" },
    { header: "EXPERIMENT" },
    { header: "STATUS" },
    { header: "STARTED (UTC)" },
    { header: "DURATION", align: "right" },
    { header: "RAN", align: "right" },
    { header: "REUSED", align: "right" },
    { header: "FAILED", align: "right" },
    ...metricKeys.map((key): Column => ({ header: key, align: "right" })),
  ];
  const rows = runs.map((run) => {
    const metrics = flattenRunMetrics(run);
    return [
      run.id,
      run.experiment,
      run.status,
      run.startedAt === null ? "-" : formatTimestamp(run.startedAt).slice(0, 16),
      run.durationMs === null ? "-" : formatDuration(run.durationMs),
      String(run.stages.ran),
      String(run.stages.reused),
      String(run.stages.failed),
      ...metricKeys.map((key) => formatMetricValue(metrics.get(key))),
    ];
  });
  return renderTable(columns, rows);
}

/** The JSON form: every summary without the raw record, metrics flattened. */
export function runsAsJson(runs: readonly RunSummary[]): string {
  const items = runs.map((run) => ({
    id: run.id,
    dir: run.dir,
    experiment: run.experiment,
    status: run.status,
    ...(run.statusDetail ? { statusDetail: run.statusDetail } : {}),
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.durationMs,
    stages: run.stages,
    metrics: Object.fromEntries(flattenRunMetrics(run)) as Record<string, MetricValue>,
    ...(run.problem ? { problem: run.problem } : {}),
  }));
  return `${JSON.stringify(items, null, 2)}\n`;
}
