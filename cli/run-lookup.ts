/**
 * Finding runs on disk for `runs`, `show`, `report` and `compare`.
 *
 * A run is a folder `runs/<UTC timestamp>-<experiment>/` holding run.json, metrics.json,
 * config.yaml, logs/ and artifacts/. `runs/latest` is a symlink to the newest run and
 * `runs/.store` is the artifact store; neither is a run.
 */
import { readFile, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";

import type { RunMetrics, RunRecord, RunStatus, StageStatus } from "../pipeline/formats.js";
import { MuPipeError } from "../pipeline/failure.js";
import type { MetricValue } from "../pipeline/stage.js";

export interface StageCounts {
  /** Stages that executed this time (succeeded, failed or interrupted). */
  readonly ran: number;
  readonly reused: number;
  readonly failed: number;
  /** Skipped, pending or still running. */
  readonly other: number;
}

export interface RunSummary {
  /** The folder name, e.g. `20261126T021530Z-quickstart`. */
  readonly id: string;
  /** Absolute path of the run folder. */
  readonly dir: string;
  readonly experiment: string;
  /** `unknown` when run.json exists but cannot be parsed (half-written, or a newer version). */
  readonly status: RunStatus | "unknown";
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** finishedAt - startedAt; null while running or unknown. */
  readonly durationMs: number | null;
  readonly stages: StageCounts;
  /** null when status is `unknown`. */
  readonly record: RunRecord | null;
  /** null when metrics.json is missing or unreadable. */
  readonly metrics: RunMetrics | null;
  /** Why the run reads as `unknown`. */
  readonly problem?: string;
}

const TIMESTAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/;

/**
 * Every run under `runsDir`, newest first. Folders without run.json are not runs and are
 * left out; a run.json that cannot be parsed still lists, as status `unknown`. A missing
 * `runsDir` means no runs.
 */
export async function listRuns(runsDir: string): Promise<RunSummary[]> {
  const root = path.resolve(runsDir);
  let names: string[];
  try {
    // Real folders only: `latest` and any other symlink would list a run twice.
    names = (await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if (isCode(error, "ENOENT")) return [];
    throw new MuPipeError({ reason: "io", path: root, message: messageOf(error) });
  }
  const summaries = await Promise.all(
    names.filter((name) => !name.startsWith(".")).map((name) => readSummary(path.join(root, name))),
  );
  const runs = summaries.filter((s): s is RunSummary => s !== null);
  return runs.sort((a, b) => sortTime(b) - sortTime(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * The absolute folder of the run a user means. `query` may be:
 * - `latest`, or `latest~N` for the Nth run before it;
 * - a path to a run folder (absolute, or relative to `cwd`);
 * - a run folder name, or a unique prefix of one (`20261126T02`);
 * - an experiment name, meaning its newest run (`quickstart~1` for the one before).
 * Throws MuPipeError `not-found` (with candidates) when nothing or more than one run matches.
 */
export async function resolveRun(runsDir: string, query: string, cwd: string = process.cwd()): Promise<string> {
  const root = path.resolve(cwd, runsDir);
  const runs = await listRuns(root);
  const names = runs.map((r) => r.id);
  const notFound = (candidates: readonly string[]): MuPipeError =>
    new MuPipeError({ reason: "not-found", what: "run", query, candidates: candidates.slice(0, 10) });

  const exact = runs.find((r) => r.id === query);
  if (exact) return exact.dir;

  const back = /^(.+?)(?:~(\d+))?$/.exec(query);
  const base = back?.[1] ?? query;
  const steps = back?.[2] === undefined ? 0 : Number(back[2]);

  if (base === "latest") {
    const target = await latestTarget(root);
    const start = target === null ? 0 : Math.max(0, runs.findIndex((r) => r.dir === target));
    const run = runs[start + steps];
    if (run) return run.dir;
    throw notFound(names);
  }

  if (looksLikePath(query)) {
    const dir = path.resolve(cwd, query);
    if (await isFile(path.join(dir, "run.json"))) return realpath(dir);
    throw notFound(names);
  }

  const ofExperiment = runs.filter((r) => r.experiment === base);
  if (ofExperiment.length > 0) {
    const run = ofExperiment[steps];
    if (run) return run.dir;
    throw notFound(ofExperiment.map((r) => r.id));
  }

  const prefixed = runs.filter((r) => r.id.startsWith(query));
  if (prefixed.length === 1 && prefixed[0]) return prefixed[0].dir;
  throw notFound(prefixed.length > 1 ? prefixed.map((r) => r.id) : names);
}

/**
 * A run's metrics as `stage.metric` -> value, stages in execution order (as run.json
 * lists them), then any stage run.json does not know, alphabetically.
 */
export function flattenRunMetrics(run: Pick<RunSummary, "record" | "metrics">): Map<string, MetricValue> {
  const flat = new Map<string, MetricValue>();
  if (!run.metrics) return flat;
  const known = run.record?.stages.map((s) => s.id) ?? [];
  const rest = Object.keys(run.metrics.stages)
    .filter((id) => !known.includes(id))
    .sort();
  for (const stage of [...known, ...rest]) {
    const metrics = run.metrics.stages[stage];
    if (!metrics) continue;
    for (const [name, value] of Object.entries(metrics)) flat.set(`${stage}.${name}`, value);
  }
  return flat;
}

/** The run in `dir` (absolute or relative to the process); throws `not-found` if it has no run.json. */
export async function readRun(dir: string): Promise<RunSummary> {
  const summary = await readSummary(path.resolve(dir));
  if (!summary) throw new MuPipeError({ reason: "not-found", what: "run", query: dir });
  return summary;
}

/** run.json and metrics.json of one folder; null when the folder is not a run at all. */
async function readSummary(dir: string): Promise<RunSummary | null> {
  const id = path.basename(dir);
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return null;
  } catch {
    return null;
  }
  let text: string;
  try {
    text = await readFile(path.join(dir, "run.json"), "utf8");
  } catch {
    return null;
  }
  const metrics = await readMetrics(dir);
  let record: RunRecord;
  try {
    record = parseRunRecord(text);
  } catch (error) {
    return {
      id,
      dir,
      experiment: experimentFromId(id),
      status: "unknown",
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      stages: { ran: 0, reused: 0, failed: 0, other: 0 },
      record: null,
      metrics,
      problem: `run.json: ${messageOf(error)}`,
    };
  }
  const started = Date.parse(record.startedAt);
  const finished = record.finishedAt === null ? NaN : Date.parse(record.finishedAt);
  return {
    id,
    dir,
    experiment: record.experiment,
    status: record.status,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: Number.isNaN(started) || Number.isNaN(finished) ? null : finished - started,
    stages: countStages(record.stages.map((s) => s.status)),
    record,
    metrics,
  };
}

function parseRunRecord(text: string): RunRecord {
  const value = JSON.parse(text) as Partial<RunRecord> | null;
  if (value === null || typeof value !== "object") throw new Error("not an object");
  if (value.version !== 1) throw new Error(`unsupported version ${JSON.stringify(value.version)}`);
  if (typeof value.experiment !== "string" || typeof value.status !== "string" || !Array.isArray(value.stages)) {
    throw new Error("missing experiment, status or stages");
  }
  return value as RunRecord;
}

async function readMetrics(dir: string): Promise<RunMetrics | null> {
  try {
    const value = JSON.parse(await readFile(path.join(dir, "metrics.json"), "utf8")) as Partial<RunMetrics> | null;
    if (value && value.version === 1 && value.stages && typeof value.stages === "object") return value as RunMetrics;
  } catch {
    // missing or half-written: the run simply has no metrics to show
  }
  return null;
}

function countStages(statuses: readonly StageStatus[]): StageCounts {
  let ran = 0;
  let reused = 0;
  let failed = 0;
  let other = 0;
  for (const status of statuses) {
    if (status === "reused") reused += 1;
    else if (status === "failed") {
      failed += 1;
      ran += 1;
    } else if (status === "succeeded" || status === "interrupted") ran += 1;
    else other += 1;
  }
  return { ran, reused, failed, other };
}

/** The timestamp in the folder name, else startedAt; runs sort newest first by it. */
function sortTime(run: RunSummary): number {
  const match = TIMESTAMP.exec(run.id);
  if (match) {
    const [, y, mo, d, h, mi, s] = match;
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  }
  const started = run.startedAt === null ? NaN : Date.parse(run.startedAt);
  return Number.isNaN(started) ? 0 : started;
}

function experimentFromId(id: string): string {
  return id.replace(TIMESTAMP, "").replace(/^-/, "") || "?";
}

/** Where `runs/latest` points, as an absolute path; null when it is missing or dangling. */
async function latestTarget(root: string): Promise<string | null> {
  try {
    const target = await realpath(path.join(root, "latest"));
    // Compare against listRuns' dirs, which are built from the (unresolved) root.
    return path.join(root, path.basename(target));
  } catch {
    return null;
  }
}

function looksLikePath(query: string): boolean {
  return query.includes("/") || query.includes(path.sep) || query === "." || query === "..";
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The run folder named by a command's one optional positional (default `latest`), for
 * commands that act on a single run (`show`, `report`).
 */
export async function singleRunArgument(command: string, positionals: readonly string[], runsDir: string, cwd: string, usage: string): Promise<string> {
  if (positionals.length > 1) throw new MuPipeError({ reason: "usage", message: `${command} takes one run`, hint: usage });
  return resolveRun(path.resolve(cwd, runsDir), positionals[0] ?? "latest", cwd);
}
