/**
 * Everything a run's report shows, gathered from its folder: run.json, metrics.json,
 * config.yaml, the previous run of the same experiment (what changed since), and the
 * stage types' own sections. Whatever is missing (a failed run has few artifacts, an
 * old run no config) is left out rather than failing the report.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import type { StageRegistry } from "../../pipeline/registry.js";
import type { StageEnvironment } from "../../pipeline/stage.js";
import { compareRuns, readRunConfig } from "../compare-runs.js";
import type { MetricRow, ParamRow } from "../output/comparison.js";
import { flattenRunMetrics, listRuns, type RunSummary } from "../run-lookup.js";
import { collectStageSections, type StageSections } from "./stage-sections.js";

export interface RunReport {
  readonly run: RunSummary;
  /** config.yaml as written; null when missing. */
  readonly configText: string | null;
  /** The experiment's run before this one, and the params that differ (values: [previous, this]). */
  readonly previous: { readonly id: string; readonly params: readonly ParamRow[] } | null;
  /** This run's metrics; with a previous run, values are [previous, this] and deltas against the previous. */
  readonly metrics: readonly MetricRow[];
  /** What the stages ran on, e.g. `tensorflow 2.21.0, 2 threads`; empty when no stage says. */
  readonly backends: readonly string[];
  readonly sections: readonly StageSections[];
}

export async function collectRunReport(run: RunSummary, registry: StageRegistry): Promise<RunReport> {
  const configText = await readFile(path.join(run.dir, "config.yaml"), "utf8").catch(() => null);
  const config = await readRunConfig(run.dir);
  const previousRun = await previousRunOf(run);
  let previous: RunReport["previous"] = null;
  let metrics: MetricRow[];
  if (previousRun) {
    const comparison = compareRuns([previousRun, run], [await readRunConfig(previousRun.dir), config]);
    previous = { id: previousRun.id, params: comparison.params };
    // Only this run's metrics: one the previous run had and this one lacks is not news here.
    metrics = comparison.metrics.filter((row) => row.values[1] !== undefined);
  } else {
    metrics = [...flattenRunMetrics(run)].map(([key, value]) => ({ key, values: [value], deltas: [null] }));
  }
  return {
    run,
    configText,
    previous,
    metrics,
    backends: backendsOf((run.record?.stages ?? []).map((s) => s.environment ?? null)),
    sections: await collectStageSections(run, config, registry),
  };
}

/** The newest run of the same experiment that started before `run`, in the same runs folder. */
async function previousRunOf(run: RunSummary): Promise<RunSummary | null> {
  const runs = await listRuns(path.dirname(run.dir));
  const index = runs.findIndex((r) => r.id === run.id);
  if (index < 0) return null;
  return runs.slice(index + 1).find((r) => r.experiment === run.experiment && r.record !== null) ?? null;
}

/** Distinct `backend version, N threads` descriptions, in stage order. */
function backendsOf(environments: readonly (StageEnvironment | null)[]): string[] {
  const seen = new Set<string>();
  for (const env of environments) {
    if (!env || env["backend"] === undefined) continue;
    const threads = env["threads"];
    seen.add(`${env["backend"]}${env["backend_version"] !== undefined ? ` ${env["backend_version"]}` : ""}${threads !== undefined ? `, ${threads} thread${threads === 1 ? "" : "s"}` : ""}`);
  }
  return [...seen];
}
