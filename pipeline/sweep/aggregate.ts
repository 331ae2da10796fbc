/**
 * A sweep's results as rows: combinations that differ only in a repeat key (a fold, a
 * seed) are one row, each metric the mean ± sample standard deviation (n - 1) of the
 * runs that succeeded, with their count. Failed and unfinished combinations are counted
 * in their row, never dropped.
 */
import type { SweepRecord } from "../formats.js";

export interface CombinationResult {
  readonly label: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly runId: string | null;
  /** The run's status (from its run.json when there is one), or `pending`. */
  readonly status: string;
  /** Flattened numeric metrics (`evaluate.f1`) of the run; empty when it has none. */
  readonly metrics: ReadonlyMap<string, number>;
}

export interface MetricSummary {
  readonly mean: number;
  /** Sample standard deviation (divides by n - 1); null for a single run. */
  readonly std: number | null;
  readonly n: number;
}

export interface ResultRow {
  /** Param path -> value, for the keys that are not repeats. */
  readonly values: Readonly<Record<string, unknown>>;
  readonly combinations: readonly CombinationResult[];
  readonly succeeded: number;
  readonly failed: number;
  /** Pending, running or interrupted. */
  readonly unfinished: number;
  readonly metrics: Readonly<Record<string, MetricSummary>>;
}

/** Rows in the sweep's order of first appearance. */
export function aggregateSweep(keys: SweepRecord["keys"], combinations: readonly CombinationResult[], metricKeys: readonly string[]): ResultRow[] {
  const choiceKeys = keys.filter((k) => !k.repeat).map((k) => k.key);
  const groups = new Map<string, CombinationResult[]>();
  for (const combination of combinations) {
    const id = JSON.stringify(choiceKeys.map((key) => combination.values[key] ?? null));
    groups.set(id, [...(groups.get(id) ?? []), combination]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as CombinationResult;
    const succeeded = group.filter((c) => c.status === "succeeded");
    const metrics: Record<string, MetricSummary> = {};
    for (const key of metricKeys) {
      const values = succeeded.map((c) => c.metrics.get(key)).filter((v): v is number => v !== undefined && Number.isFinite(v));
      const summary = summarise(values);
      if (summary) metrics[key] = summary;
    }
    return {
      values: Object.fromEntries(choiceKeys.filter((key) => key in first.values).map((key) => [key, first.values[key]])),
      combinations: group,
      succeeded: succeeded.length,
      failed: group.filter((c) => c.status === "failed").length,
      unfinished: group.filter((c) => c.status !== "succeeded" && c.status !== "failed").length,
      metrics,
    };
  });
}

export function summarise(values: readonly number[]): MetricSummary | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? null : Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std, n };
}

export type SortDirection = "asc" | "desc";

/** Losses and errors are better low; everything else (F1, dice, accuracy) high. */
export function defaultDirection(metric: string): SortDirection {
  return /loss|error|mse|mae/i.test(metric.slice(metric.lastIndexOf(".") + 1)) ? "asc" : "desc";
}

/** Best first by `metric`; rows without it last, in their sweep order. */
export function sortRows(rows: readonly ResultRow[], metric: string, direction: SortDirection = defaultDirection(metric)): ResultRow[] {
  const sign = direction === "asc" ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: row.metrics[metric]?.mean }))
    .sort((a, b) => {
      if (a.value === undefined || b.value === undefined) return (a.value === undefined ? 1 : 0) - (b.value === undefined ? 1 : 0) || a.index - b.index;
      return sign * (a.value - b.value) || a.index - b.index;
    })
    .map(({ row }) => row);
}
