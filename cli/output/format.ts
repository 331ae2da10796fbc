/**
 * Small, pure formatters shared by the loggers and the run views: durations, ETAs,
 * numbers, progress lines, digests and timestamps. No I/O here.
 */
import path from "node:path";

import { unreachable } from "../../pipeline/failure.js";
import type { PipelineEvent } from "../../pipeline/events.js";
import type { RunStatus } from "../../pipeline/formats.js";
import type { MetricValue, ProgressUpdate } from "../../pipeline/stage.js";

/** `850ms`, `3.2s`, `2m10s`, `1h02m`. Negative or non-finite input reads as `0ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "0ms";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const tenths = Math.round(ms / 100) / 10;
  if (tenths < 60) return `${tenths.toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)}m${pad2(totalSeconds % 60)}s`;
  }
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h${pad2(totalMinutes % 60)}m`;
}

/** Like formatDuration but in whole seconds under a minute (`42s`): ETAs are estimates. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 59.5) return `${Math.round(seconds)}s`;
  return formatDuration(seconds * 1000);
}

/**
 * A number for people: integers as they are, others to `significant` digits without
 * trailing zeros (`52.1`, `0.8735`, `0.00003`).
 */
export function formatNumber(value: number, significant = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const fixed = value.toPrecision(significant);
  if (fixed.includes("e")) {
    const [mantissa = fixed, exponent = ""] = fixed.split("e");
    return `${stripZeros(mantissa)}e${exponent}`;
  }
  return stripZeros(fixed);
}

export function formatMetricValue(value: MetricValue | undefined): string {
  if (value === undefined) return "-";
  if (typeof value === "number") return formatNumber(value);
  return String(value);
}

/** `+0.0078`, `-3`, `+0.9%` style signed numbers. */
export function formatSigned(value: number, significant = 4): string {
  const text = formatNumber(value, significant);
  return value > 0 ? `+${text}` : text;
}

/**
 * One progress line: the stage's message, then the fraction done, then the ETA, joined
 * by ` · `, e.g. `epoch 3/30 batch 120/223 loss 0.41 · 54% · ETA 2m10s`.
 */
export function formatProgress(update: ProgressUpdate, etaSeconds: number | null): string {
  const parts: string[] = [];
  const message = update.message?.trim();
  if (message) parts.push(message);
  const { current, total } = update;
  if (current !== undefined && total !== undefined && total > 0) {
    const percent = `${Math.floor((Math.min(current, total) / total) * 100)}%`;
    if (message) {
      parts.push(percent);
    } else {
      const unit = update.unit ? ` ${update.unit}` : "";
      parts.push(`${current}/${total}${unit} (${percent})`);
    }
  } else if (current !== undefined && !message) {
    parts.push(`${current}${update.unit ? ` ${update.unit}` : ""}`);
  }
  if (etaSeconds !== null) parts.push(`ETA ${formatEta(etaSeconds)}`);
  return parts.join(" · ");
}

/** A per-group figure: `<attribute>=<value>.<figure>`, e.g. `kind=webcam.pooled_f1` (stages/eval/evaluate.ts). */
export const GROUP_FIGURE = /^([^.=]+=.+)\.([^.=]+)$/;

/**
 * `items_train=160 images_per_s=52.1`. A group's figures (`kind=webcam.f1`,
 * `kind=webcam.images`) are gathered where the first one is, as
 * `kind=webcam[f1=0.81 images=20]`, so a line with a few groups stays readable; of
 * more than MAX_INLINE_GROUPS only their number is said.
 */
export function formatMetricsInline(metrics: Readonly<Record<string, MetricValue>>): string {
  const parts: (string | { group: string; figures: string[] })[] = [];
  const groups = new Map<string, string[]>();
  for (const [name, value] of Object.entries(metrics)) {
    const match = GROUP_FIGURE.exec(name);
    const text = `${match ? match[2] : name}=${formatMetricValue(value)}`;
    if (match === null) {
      parts.push(text);
      continue;
    }
    const group = match[1] as string;
    const figures = groups.get(group);
    if (figures) figures.push(text);
    else {
      const started = [text];
      groups.set(group, started);
      parts.push({ group, figures: started });
    }
  }
  if (groups.size > MAX_INLINE_GROUPS) {
    const plain = parts.filter((part): part is string => typeof part === "string");
    return [...plain, `(+${groups.size} groups of figures, e.g. ${[...groups.keys()][0]}: mu-pipe show)`].join(" ");
  }
  return parts.map((part) => (typeof part === "string" ? part : `${part.group}[${part.figures.join(" ")}]`)).join(" ");
}

/** More groups than this (a synthetic set's many attributes) are left to `mu-pipe show`. */
const MAX_INLINE_GROUPS = 8;

/** The first 12 hex digits of a digest (`sha256:` prefixes dropped), like git's short ids. */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return "-";
  const hex = digest.includes(":") ? digest.slice(digest.indexOf(":") + 1) : digest;
  return hex.slice(0, 12);
}

/** `2026-11-26 02:15:30Z` from an ISO timestamp (UTC, as run ids are); the input if unparsable. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return "-";
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** `succeeded in 12.3s -> runs/20261126T021500Z-quickstart` */
export function formatRunEnd(status: RunStatus, durationMs: number, where: string): string {
  const took = formatDuration(durationMs);
  switch (status) {
    case "succeeded":
      return `succeeded in ${took} -> ${where}`;
    case "failed":
      return `failed after ${took} -> ${where}`;
    case "interrupted":
      return `interrupted after ${took} -> ${where}`;
    case "running":
      return `ended (still marked running) after ${took} -> ${where}`;
    default:
      return unreachable(status);
  }
}

/** Why a stage runs, and what it resumes from: `no cached result for this fingerprint; resumes after epoch 3 of 30`. */
export function startText(event: Extract<PipelineEvent, { type: "stage-start" }>): string {
  return event.resume ? `${event.reason}; resumes after ${event.resume}` : event.reason;
}

/** What Ctrl-C does now: `stopping: waiting for finetune1 to stop (Ctrl-C again to stop at once)`. */
export function stoppingText(event: Extract<PipelineEvent, { type: "run-stopping" }>): string {
  if (event.hurry) return event.stageId ? `stopping now, without waiting for ${event.stageId} to finish its step` : "stopping now";
  return `stopping${event.stageId ? `: waiting for ${event.stageId} to stop` : ""} (Ctrl-C again to stop at once)`;
}

/** `file` relative to `cwd` when it lies inside it (`runs/2026...`), else as given. */
export function relativePath(cwd: string, file: string): string {
  if (!path.isAbsolute(file)) return file;
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function stripZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** `1.5 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
