/**
 * The one reader of run folders, used by every verb (`runs`, `show`, `compare`,
 * `report`, `predict`, `export`, `gc`, `runs rm`) and by the executor's run history.
 *
 * A run is a folder `runs/<UTC timestamp>-<experiment>/` holding run.json, metrics.json,
 * config.yaml, logs/ and artifacts/. `runs/latest` is a symlink to the newest run and
 * `runs/.store` is the artifact store; neither is a run, nor is any other dot-folder.
 *
 * run.json is validated here (version 1 only); a run whose record says `running` but
 * whose process is gone from this host reads as `died` (the file is left as it is:
 * reading never writes, and the run that would rewrite it is the one that is gone).
 */
import { readFile, readdir, realpath, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { MuPipeError } from "./failure.js";
import type { RunMetrics, RunRecord, RunStatus, StageStatus } from "./formats.js";
import { LATEST_LINK, METRICS_FILE, RUN_FILE } from "./run-directory.js";
import type { MetricValue } from "./stage.js";
import { isProcessAlive } from "./store/atomic-file.js";

export interface StageCounts {
  /** Stages that executed this time (succeeded, failed or interrupted). */
  readonly ran: number;
  readonly reused: number;
  readonly failed: number;
  /** Skipped, pending or still running. */
  readonly other: number;
}

/**
 * What a run's status is when read: the recorded status, `died` for a `running` run
 * whose process is gone from this host, `unknown` when run.json cannot be read.
 */
/** `detached`: a Slurm run whose submitting command has ended while its jobs go on (`--detach`, or the command was killed). */
export type ReadStatus = RunStatus | "died" | "detached" | "unknown";

export interface RunSummary {
  /** The folder name, e.g. `20261126T021530Z-quickstart`. */
  readonly id: string;
  /** Absolute path of the run folder. */
  readonly dir: string;
  readonly experiment: string;
  /** `unknown` when run.json exists but cannot be parsed (half-written, or a newer version). */
  readonly status: ReadStatus;
  /**
   * For people, beside a running or died run's status: `pid 4242 is gone`,
   * `pid 4242 on host gpu-1` (another host's processes cannot be checked).
   */
  readonly statusDetail?: string;
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

export interface ListRunsOptions {
  /** Only runs whose folder name ends in `-<experiment>` (read before any run.json is). */
  readonly experiment?: string;
  /** Only the newest n folders (by name, which starts with the UTC timestamp). */
  readonly newest?: number;
}

const TIMESTAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/;

/**
 * Every run under `runsDir`, newest first. Folders without run.json are not runs and are
 * left out; a run.json that cannot be parsed still lists, as status `unknown`. A missing
 * `runsDir` means no runs.
 */
export async function listRuns(runsDir: string, options: ListRunsOptions = {}): Promise<RunSummary[]> {
  const root = path.resolve(runsDir);
  let names: string[];
  try {
    // Real folders only: `latest` and any other symlink would list a run twice.
    names = (await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if (isCode(error, "ENOENT")) return [];
    throw new MuPipeError({ reason: "io", path: root, message: messageOf(error) });
  }
  names = names.filter((name) => !name.startsWith("."));
  if (options.experiment !== undefined) {
    const suffix = new RegExp(`-${escapeRegExp(options.experiment)}(-\\d+)?$`);
    names = names.filter((name) => suffix.test(name));
  }
  if (options.newest !== undefined) names = names.sort().reverse().slice(0, options.newest);
  const summaries = await Promise.all(names.map((name) => readSummary(path.join(root, name))));
  let runs = summaries.filter((s): s is RunSummary => s !== null);
  if (options.experiment !== undefined) runs = runs.filter((run) => run.experiment === options.experiment);
  return runs.sort((a, b) => sortTime(b) - sortTime(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** The run in `dir` (absolute or relative to the process); throws `not-found` if it has no run.json. */
export async function readRun(dir: string): Promise<RunSummary> {
  const summary = await readSummary(path.resolve(dir));
  if (!summary) throw new MuPipeError({ reason: "not-found", what: "run", query: dir });
  return summary;
}

/** Where `runs/latest` points, as an absolute path under `runsDir`; null when it is missing or dangling. */
export async function latestTarget(runsDir: string): Promise<string | null> {
  const root = path.resolve(runsDir);
  try {
    const target = await realpath(path.join(root, LATEST_LINK));
    // Compare against listRuns' dirs, which are built from the (unresolved) root.
    return path.join(root, path.basename(target));
  } catch {
    return null;
  }
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

/**
 * How a run ended, for messages: `succeeded`, `failed at finetune2`, `died during
 * finetune2`, `still running`, `interrupted at train`.
 */
export function describeOutcome(run: RunSummary): string {
  const at = (status: StageStatus): string | undefined => run.record?.stages.find((s) => s.status === status)?.id;
  switch (run.status) {
    case "failed": {
      const stage = at("failed");
      return stage === undefined ? "failed" : `failed at ${stage}`;
    }
    case "interrupted": {
      const stage = at("interrupted");
      return stage === undefined ? "was interrupted" : `was interrupted at ${stage}`;
    }
    case "died": {
      const stage = at("running");
      return stage === undefined ? "died" : `died during ${stage}`;
    }
    case "running":
      return "is still running";
    case "detached":
      return "runs on Slurm without its submitting command";
    case "unknown":
      return `cannot be read (${run.problem ?? "run.json"})`;
    case "succeeded":
      return "succeeded";
  }
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
    text = await readFile(path.join(dir, RUN_FILE), "utf8");
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
      problem: `${RUN_FILE}: ${messageOf(error)}`,
    };
  }
  const started = Date.parse(record.startedAt);
  const finished = record.finishedAt === null ? NaN : Date.parse(record.finishedAt);
  return {
    id,
    dir,
    experiment: record.experiment,
    ...liveness(record),
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: Number.isNaN(started) || Number.isNaN(finished) ? null : finished - started,
    stages: countStages(record.stages.map((s) => s.status)),
    record,
    metrics,
  };
}

/**
 * A `running` record is only believed while its process lives: on this host, a pid
 * that is gone, a zombie, or a pid reused by another process (another start time, when
 * run.json recorded one) means the run died. Another host's processes cannot be
 * checked, so such a run stays `running`, and says where.
 */
function liveness(record: RunRecord): { status: ReadStatus; statusDetail?: string } {
  if (record.status !== "running") return { status: record.status };
  if (record.hostname !== os.hostname()) return { status: "running", statusDetail: `pid ${record.pid} on host ${record.hostname}` };
  if (isProcessAlive(record.pid, record.processStart ?? null)) return { status: "running", statusDetail: `pid ${record.pid}` };
  if (record.executor?.kind === "slurm") {
    // Its stages are Slurm jobs that go on without the command that submitted them.
    const how = record.executor.detached ? "submitted with --detach" : `pid ${record.pid} is gone`;
    return { status: "detached", statusDetail: `${how}; mu-pipe show asks Slurm about its jobs, the same command again re-attaches` };
  }
  return { status: "died", statusDetail: `pid ${record.pid} is gone` };
}

/** Checks what every reader relies on; a version this code does not know is refused, not guessed at. */
function parseRunRecord(text: string): RunRecord {
  const value = JSON.parse(text) as Partial<RunRecord> | null;
  if (value === null || typeof value !== "object") throw new Error("not an object");
  if (value.version !== 1) throw new Error(`unsupported version ${JSON.stringify(value.version)} (this mu-pipe reads version 1)`);
  if (typeof value.experiment !== "string" || typeof value.status !== "string" || !Array.isArray(value.stages)) {
    throw new Error("missing experiment, status or stages");
  }
  return value as RunRecord;
}

async function readMetrics(dir: string): Promise<RunMetrics | null> {
  try {
    const value = JSON.parse(await readFile(path.join(dir, METRICS_FILE), "utf8")) as Partial<RunMetrics> | null;
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
export function sortTime(run: Pick<RunSummary, "id" | "startedAt">): number {
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
