/**
 * Writing report pages: a run's `report.html` (by `mu-pipe run` when a run ends, and by
 * `mu-pipe report`), and the page of `mu-pipe compare --format html`. Each is written to
 * a temporary file and renamed into place, so a reader never sees half a page.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import type { StageRegistry } from "../../pipeline/registry.js";
import { writeFileAtomic } from "../../pipeline/store/atomic-file.js";
import type { Comparison } from "../output/comparison.js";
import { readRun, type RunSummary } from "../run-lookup.js";
import { renderComparisonPage } from "./compare-page.js";
import { readRunConfig } from "../compare-runs.js";
import type { SweepTable } from "../output/sweep-table.js";
import type { SweepResults } from "../sweep-results.js";
import { renderSweepPage } from "./sweep-page.js";
import { collectRunReport } from "./run-report.js";
import { renderRunPage } from "./run-page.js";
import { collectStageSections } from "./stage-sections.js";

export const REPORT_FILE = "report.html";

/** Builds the report of the run in `runDir` and writes it to `out` (default `<runDir>/report.html`); returns the path. */
export async function writeRunReport(runDir: string, registry: StageRegistry, out = path.join(runDir, REPORT_FILE)): Promise<string> {
  const run = await readRun(runDir);
  const html = await renderRunPage(await collectRunReport(run, registry));
  await writeHtml(out, html);
  return out;
}

export interface ComparisonPageRequest {
  readonly comparison: Comparison;
  readonly runs: readonly RunSummary[];
  /** Each run's parsed config.yaml (for its stages' inputs), or null. */
  readonly configs: readonly unknown[];
  readonly registry: StageRegistry;
}

export async function writeComparisonPage(out: string, request: ComparisonPageRequest): Promise<void> {
  const sections = await Promise.all(request.runs.map((run, i) => collectStageSections(run, request.configs[i] ?? null, request.registry)));
  await writeHtml(out, await renderComparisonPage({ comparison: request.comparison, runs: request.runs, sections }));
}

export interface SweepPageRequest {
  readonly table: SweepTable;
  readonly results: SweepResults;
  readonly registry: StageRegistry;
}

export async function writeSweepPage(out: string, request: SweepPageRequest): Promise<void> {
  const sections = await Promise.all(
    request.results.runs.map(async (run) => (run ? collectStageSections(run, await readRunConfig(run.dir), request.registry) : [])),
  );
  await writeHtml(out, await renderSweepPage({ table: request.table, results: request.results, sections }));
}

/** `<runsDir>/compare-<a>-vs-<b>.html`; with more runs, `...-and-<n>-more.html`. */
export function defaultComparisonFile(runsDir: string, runs: readonly Pick<RunSummary, "id">[]): string {
  const [a = "", b = ""] = runs.map((run) => run.id);
  const more = runs.length > 2 ? `-and-${runs.length - 2}-more` : "";
  return path.join(runsDir, `compare-${a}-vs-${b}${more}.html`);
}

async function writeHtml(out: string, html: string): Promise<void> {
  try {
    await mkdir(path.dirname(out), { recursive: true });
    await writeFileAtomic(out, html);
  } catch (error) {
    throw new MuPipeError({ reason: "io", path: out, message: error instanceof Error ? error.message : String(error) });
  }
}
