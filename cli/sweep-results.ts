/** A sweep record with what each of its runs left on disk: status and metrics. */
import path from "node:path";
import type { SweepRecord } from "../pipeline/formats.js";
import type { CombinationResult } from "../pipeline/sweep/aggregate.js";
import { flattenRunMetrics, readRun, type RunSummary } from "./run-lookup.js";

export interface SweepResults {
  readonly sweep: SweepRecord;
  readonly combinations: readonly CombinationResult[];
  /** The runs that exist, by combination index (null: never started, or its folder is gone). */
  readonly runs: readonly (RunSummary | null)[];
}

export async function readSweepResults(runsDir: string, sweep: SweepRecord): Promise<SweepResults> {
  const runs = await Promise.all(
    sweep.combinations.map(async (c) => (c.runId === null ? null : await readRun(path.join(runsDir, c.runId)).catch(() => null))),
  );
  const combinations = sweep.combinations.map((c, i): CombinationResult => {
    const run = runs[i] ?? null;
    const metrics = new Map<string, number>();
    if (run) for (const [key, value] of flattenRunMetrics(run)) if (typeof value === "number") metrics.set(key, value);
    // A run that is gone still has the status the sweep recorded for it.
    const status = run ? (run.status === "running" && sweep.status !== "running" ? "interrupted" : run.status) : c.runId === null ? "pending" : c.status;
    return { label: c.label, values: c.values, runId: c.runId, status, metrics };
  });
  return { sweep, combinations, runs };
}
