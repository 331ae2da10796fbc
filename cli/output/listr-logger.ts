/**
 * The terminal logger: one listr2 task per stage, created on `run-start`, each settled
 * by the later events for its stage. Progress goes to the task's output line, reused
 * stages show as skipped (`reused`), failures show their message under the title.
 *
 * Tasks run one after another in execution order (the order `run-start` lists), so a
 * stage that has not started shows as waiting rather than as a spinner. If the executor
 * does run two stages at once, the later one's events are buffered and shown when its
 * turn comes; nothing is lost.
 *
 * listr2 must never throw into the executor: failures are reported with
 * `exitOnError: false`, any rejection of `run()` is swallowed in `close()`, and the CLI
 * prints the failure itself afterwards.
 */
import { Listr, type ListrTask, type ListrTaskWrapper } from "listr2";

import type { Logger, PipelineEvent } from "../../pipeline/events.js";
import type { Metrics } from "../../pipeline/stage.js";
import { unreachable } from "../../pipeline/failure.js";
import type { CommandIO } from "../command.js";
import { formatDuration, formatProgress, formatRunEnd, relativePath, startText, stoppingText } from "./format.js";

export type ListrRendererName = "default" | "simple" | "verbose" | "test" | "silent";

export interface ListrLoggerOptions {
  /** Where the closing `run succeeded in 12.3s -> runs/...` line goes once listr is done. */
  readonly io?: Pick<CommandIO, "cwd" | "out">;
  /** Also show stages outside --only/--from/--until (as skipped). */
  readonly verbose?: boolean;
  /** Injectable for tests: `test` or `simple` render to non-TTY streams. Default `default`. */
  readonly renderer?: ListrRendererName;
  /** Show stages running side by side (`--jobs` above 1) instead of one after another. */
  readonly concurrent?: boolean;
  /** Passed to the renderer as is (e.g. a listr2 `logger` writing to a fake stream). */
  readonly rendererOptions?: Record<string, unknown>;
}

type Outcome =
  | { readonly kind: "succeeded"; readonly durationMs: number; readonly metrics: Metrics }
  | { readonly kind: "reused"; readonly reason: string }
  | { readonly kind: "failed"; readonly message: string; readonly logFile: string | null }
  | { readonly kind: "skipped"; readonly reason: string }
  | { readonly kind: "interrupted" };

// listr2's wrapper is generic over renderer classes we do not pin down here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TaskWrapper = ListrTaskWrapper<unknown, any, any>;

/** One stage's task: holds the output until listr hands us the wrapper, and the outcome. */
class StageTask {
  readonly outcome: Promise<Outcome>;
  #resolve!: (outcome: Outcome) => void;
  #settled = false;
  #wrapper: TaskWrapper | null = null;
  #output: string | null = null;

  constructor(readonly title: string) {
    this.outcome = new Promise<Outcome>((resolve) => {
      this.#resolve = resolve;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  settle(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(outcome);
  }

  setOutput(text: string): void {
    this.#output = text;
    if (this.#wrapper) this.#wrapper.output = text;
  }

  async run(task: TaskWrapper): Promise<void> {
    this.#wrapper = task;
    if (this.#output !== null) task.output = this.#output;
    const outcome = await this.outcome;
    switch (outcome.kind) {
      case "succeeded":
        task.title = `${this.title} · ${formatDuration(outcome.durationMs)}`;
        return;
      case "reused":
        task.skip(`${this.title} · reused`);
        return;
      case "skipped":
        task.skip(`${this.title} · skipped: ${outcome.reason}`);
        return;
      case "failed":
        throw new Error(outcome.logFile ? `${outcome.message}\nlog: ${outcome.logFile}` : outcome.message);
      case "interrupted":
        throw new Error("interrupted");
      default:
        unreachable(outcome);
    }
  }
}

export class ListrLogger implements Logger {
  readonly #options: ListrLoggerOptions;
  readonly #stages = new Map<string, StageTask>();
  #done: Promise<void> | null = null;
  #end: Extract<PipelineEvent, { type: "run-end" }> | null = null;
  readonly #warnings: string[] = [];
  #closed = false;

  constructor(options: ListrLoggerOptions = {}) {
    this.#options = options;
  }

  emit(event: PipelineEvent): void {
    switch (event.type) {
      case "run-start":
        this.#start(event);
        return;
      case "stage-waiting":
        this.#stages.get(event.id)?.setOutput(`waiting: ${event.holder.owner} is computing the same stage`);
        return;
      case "stage-queued":
        this.#stages.get(event.id)?.setOutput(`Slurm job ${event.job}: ${event.state}${event.reason && event.reason !== "None" ? ` (${event.reason})` : ""}`);
        return;
      case "stage-start":
        this.#stages.get(event.id)?.setOutput(startText(event));
        return;
      case "stage-progress":
        this.#stages.get(event.id)?.setOutput(formatProgress(event.update, event.etaSeconds));
        return;
      case "stage-reused":
        this.#stages.get(event.id)?.settle({ kind: "reused", reason: event.reason });
        return;
      case "stage-succeeded":
        this.#stages.get(event.id)?.settle({ kind: "succeeded", durationMs: event.durationMs, metrics: event.metrics });
        return;
      case "stage-failed":
        this.#stages.get(event.id)?.settle({
          kind: "failed",
          message: event.message,
          logFile: event.logFile && this.#options.io ? relativePath(this.#options.io.cwd, event.logFile) : event.logFile,
        });
        return;
      case "stage-interrupted":
        this.#stages.get(event.id)?.settle({ kind: "interrupted" });
        return;
      case "stage-skipped":
        this.#stages.get(event.id)?.settle({ kind: "skipped", reason: event.reason });
        return;
      case "run-stopping":
        if (event.stageId) this.#stages.get(event.stageId)?.setOutput(stoppingText(event));
        else this.warn(stoppingText(event));
        return;
      case "run-end":
        this.#end = event;
        this.#settleRest(event.status === "interrupted" ? "run interrupted" : "not run");
        return;
      default:
        unreachable(event);
    }
  }

  /** While listr draws, a warning waits and is printed after the run's last line. */
  warn(message: string): void {
    this.#warnings.push(message);
    if (this.#closed) this.#flushWarnings();
  }

  /** Waits until listr has drawn its last frame. Safe to call without a run, or twice. */
  async close(): Promise<void> {
    this.#settleRest("not run");
    await this.#done;
    const end = this.#end;
    this.#end = null;
    if (end && this.#options.io) {
      this.#options.io.out(`run ${formatRunEnd(end.status, end.durationMs, relativePath(this.#options.io.cwd, end.runDir))}\n`);
    }
    this.#closed = true;
    this.#flushWarnings();
  }

  #flushWarnings(): void {
    for (const message of this.#warnings.splice(0)) this.#options.io?.out(`warning: ${message}\n`);
  }

  #start(event: Extract<PipelineEvent, { type: "run-start" }>): void {
    if (this.#done) return; // one run per logger
    const tasks: ListrTask<unknown>[] = [];
    for (const stage of event.stages) {
      if (!stage.selected && !this.#options.verbose) continue;
      const task = new StageTask(`${stage.id} (${stage.uses})`);
      if (!stage.selected) task.settle({ kind: "skipped", reason: "not selected" });
      this.#stages.set(stage.id, task);
      tasks.push({ title: task.title, task: (_ctx, wrapper) => task.run(wrapper) });
    }
    const listr = new Listr<unknown>(tasks, {
      concurrent: this.#options.concurrent ?? false,
      exitOnError: false,
      registerSignalListeners: false, // the CLI owns Ctrl-C and reports it through events
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      renderer: (this.#options.renderer ?? "default") as any,
      rendererOptions: {
        collapseSkips: true,
        collapseErrors: false,
        showErrorMessage: true,
        showSkipMessage: true,
        suffixSkips: false,
        ...this.#options.rendererOptions,
      },
    });
    this.#done = listr.run().then(
      () => undefined,
      () => undefined,
    );
  }

  #settleRest(reason: string): void {
    for (const task of this.#stages.values()) {
      if (!task.settled) task.settle({ kind: "skipped", reason });
    }
  }
}
