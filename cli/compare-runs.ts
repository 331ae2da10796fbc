/**
 * What `compare` and the run reports share: runs' resolved configs flattened to key
 * paths and diffed, and their metrics side by side with deltas against the first run.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import { parse } from "yaml";

import { CONFIG_FILE } from "../pipeline/run-directory.js";
import type { MetricValue } from "../pipeline/stage.js";
import type { Comparison, Delta, MetricRow, ParamRow, ParamValue } from "./output/comparison.js";
import { flattenRunMetrics, type RunSummary } from "./run-lookup.js";

/** Builds the comparison; `configs[i]` is run i's parsed config.yaml, or null if unreadable. */
export function compareRuns(runs: readonly RunSummary[], configs: readonly (unknown | null)[]): Comparison {
  const flatConfigs = configs.map((config) => (config === null ? new Map<string, ParamValue>() : flattenConfig(config)));
  const paramKeys = unionOfKeys(flatConfigs);
  const params: ParamRow[] = paramKeys
    .map((key) => ({ key, values: flatConfigs.map((flat) => flat.get(key)) }))
    .filter((row) => !row.values.every((value) => sameValue(value, row.values[0])));

  const flatMetrics = runs.map((run) => flattenRunMetrics(run));
  const metrics: MetricRow[] = unionOfKeys(flatMetrics).map((key) => {
    const values = flatMetrics.map((flat) => flat.get(key));
    const base = values[0];
    return { key, values, deltas: values.map((value, i) => (i === 0 ? null : deltaOf(base, value))) };
  });

  const flatEnvironments = runs.map((run) => flattenEnvironment(run));
  const environment: ParamRow[] = unionOfKeys(flatEnvironments).map((key) => ({ key, values: flatEnvironments.map((flat) => flat.get(key)) }));

  return {
    runs: runs.map((run) => ({ id: run.id, dir: run.dir, experiment: run.experiment, status: run.status })),
    params,
    metrics,
    environment,
    missingConfig: runs.filter((_, i) => configs[i] === null).map((run) => run.id),
  };
}

/**
 * Key paths to leaves: `stages.finetune2.params.lr`. Lists of scalars stay whole (a
 * normalisation mean reads better as `[0.5, 0.5, 0.5]`); other lists flatten by index
 * (`stages.x.params.layers[1].filters`).
 */
export function flattenConfig(value: unknown, prefix = "", into = new Map<string, ParamValue>()): Map<string, ParamValue> {
  if (Array.isArray(value)) {
    if (value.every(isScalar)) {
      into.set(prefix, value as ParamValue);
    } else {
      value.forEach((item, i) => flattenConfig(item, `${prefix}[${i}]`, into));
    }
  } else if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) into.set(prefix, "{}");
    for (const [key, child] of entries) flattenConfig(child, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix) {
    into.set(prefix, isScalar(value) ? value : String(value));
  }
  return into;
}

/** `stage.key` -> value of what each stage reported it ran on (backend, threads), in stage order. */
function flattenEnvironment(run: RunSummary): Map<string, ParamValue> {
  const flat = new Map<string, ParamValue>();
  for (const stage of run.record?.stages ?? []) {
    for (const [key, value] of Object.entries(stage.environment ?? {})) flat.set(`${stage.id}.${key}`, value);
  }
  return flat;
}

/** A run's config.yaml, parsed; null when it is missing or unreadable. */
export async function readRunConfig(dir: string): Promise<unknown | null> {
  try {
    return parse(await readFile(path.join(dir, CONFIG_FILE), "utf8")) as unknown;
  } catch {
    return null;
  }
}

function deltaOf(base: MetricValue | undefined, value: MetricValue | undefined): Delta | null {
  if (typeof base !== "number" || typeof value !== "number") return null;
  const absolute = value - base;
  return { absolute, percent: base === 0 ? null : (absolute / Math.abs(base)) * 100 };
}

/** Keys in first-seen order across the maps (the first run's order leads). */
function unionOfKeys(maps: readonly Map<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const map of maps) for (const key of map.keys()) keys.add(key);
  return [...keys];
}

function sameValue(a: ParamValue | undefined, b: ParamValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b) && (a === undefined) === (b === undefined);
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}
