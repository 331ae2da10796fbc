/**
 * One line per meaningful event, for CI logs and redirected output:
 *
 *     [run] 20261126T021500Z-quickstart: 7 stages
 *     [load] reused (fingerprint matches run 20261125T...)
 *     [resize] running: params.size changed: 224 -> 256
 *     [resize] 120/223 images (53%) · ETA 12s
 *     [resize] done in 3.2s  items_train=160 images_per_s=52.1
 *     [finetune1] running: no cached result for this fingerprint; resumes after epoch 3 of 30
 *     [run] stopping: waiting for finetune1 to stop (Ctrl-C again to stop at once)
 *     [finetune1] interrupted
 *     [run] interrupted after 12.3s -> runs/20261126T021500Z-quickstart
 *
 * Progress is throttled to one line per stage every `progressIntervalMs` (and the line
 * that reaches 100%), so a long training run does not flood a log file. Everything goes
 * to stdout so the lines stay in order; the CLI prints the final failure itself.
 */
import os from "node:os";

import type { Logger, PipelineEvent } from "../../pipeline/events.js";
import { unreachable } from "../../pipeline/failure.js";
import type { CommandIO } from "../command.js";
import { formatDuration, formatMetricsInline, formatProgress, formatRunEnd, relativePath, shortDigest, startText, stoppingText } from "./format.js";

export interface PlainLoggerOptions {
  /** Also show stages outside --only/--from/--until and artifact digests. */
  readonly verbose?: boolean;
  /** Minimum time between two progress lines of one stage (default 5000). */
  readonly progressIntervalMs?: number;
  /** Clock, injectable for tests. */
  readonly now?: () => number;
  /** Put before every line, e.g. a sweep run's label when several runs print at once. */
  readonly prefix?: string;
}

export class PlainLogger implements Logger {
  readonly #io: Pick<CommandIO, "cwd" | "out">;
  readonly #verbose: boolean;
  readonly #interval: number;
  readonly #now: () => number;
  /** Stage id -> time of its last printed progress line. */
  readonly #lastProgress = new Map<string, number>();
  readonly #prefix: string;

  constructor(io: Pick<CommandIO, "cwd" | "out">, options: PlainLoggerOptions = {}) {
    this.#io = io;
    this.#verbose = options.verbose ?? false;
    this.#interval = options.progressIntervalMs ?? 5000;
    this.#now = options.now ?? Date.now;
    this.#prefix = options.prefix ?? "";
  }

  emit(event: PipelineEvent): void {
    const line = this.#format(event);
    if (line !== null) this.#write(line);
  }

  warn(message: string): void {
    this.#write(`[run] warning: ${message}`);
  }

  #write(text: string): void {
    const lines = this.#prefix ? text.split("\n").map((line) => `${this.#prefix}${line}`) : [text];
    this.#io.out(`${lines.join("\n")}\n`);
  }

  async close(): Promise<void> {
    // Lines are written as they come; nothing is buffered.
  }

  #format(event: PipelineEvent): string | null {
    switch (event.type) {
      case "run-start": {
        const selected = event.stages.filter((s) => s.selected).length;
        const count = `${event.stages.length} stage${event.stages.length === 1 ? "" : "s"}`;
        const head = `[run] ${event.runId}: ${count}${selected < event.stages.length ? ` (${selected} selected)` : ""}`;
        if (!this.#verbose) return head;
        const unselected = event.stages.filter((s) => !s.selected).map((s) => `[${s.id}] skipped: not selected`);
        return [head, ...unselected].join("\n");
      }
      case "stage-waiting": {
        const { owner, hostname } = event.holder;
        const where = hostname && hostname !== os.hostname() ? ` on ${hostname}` : "";
        return `[${event.id}] waiting: ${owner}${where} is computing the same stage`;
      }
      case "stage-queued":
        return `[${event.id}] queued: Slurm job ${event.job} ${event.state}${event.reason && event.reason !== "None" ? ` (${event.reason})` : ""}`;
      case "stage-start":
        this.#lastProgress.delete(event.id);
        return `[${event.id}] running: ${startText(event)}`;
      case "stage-progress": {
        const { current, total } = event.update;
        const finished = current !== undefined && total !== undefined && total > 0 && current >= total;
        const now = this.#now();
        const last = this.#lastProgress.get(event.id);
        if (!finished && last !== undefined && now - last < this.#interval) return null;
        this.#lastProgress.set(event.id, now);
        const text = formatProgress(event.update, event.etaSeconds);
        return text ? `[${event.id}] ${text}` : null;
      }
      case "stage-reused":
        return `[${event.id}] reused (${event.reason})${this.#verbose ? ` artifact ${shortDigest(event.artifactDigest)}` : ""}`;
      case "stage-succeeded": {
        const metrics = formatMetricsInline(event.metrics);
        return `[${event.id}] done in ${formatDuration(event.durationMs)}${metrics ? `  ${metrics}` : ""}`;
      }
      case "stage-failed":
        return [`[${event.id}] FAILED: ${event.message}`, ...(event.logFile ? [`[${event.id}] log: ${relativePath(this.#io.cwd, event.logFile)}`] : [])].join("\n");
      case "stage-interrupted":
        return `[${event.id}] interrupted`;
      case "stage-skipped":
        return `[${event.id}] skipped: ${event.reason}`;
      case "run-stopping":
        return `[run] ${stoppingText(event)}`;
      case "run-end":
        return `[run] ${formatRunEnd(event.status, event.durationMs, relativePath(this.#io.cwd, event.runDir))}`;
      default:
        return unreachable(event);
    }
  }
}
