/**
 * Runs a decided stage in a worker process of its own (`--jobs N`): writes the job file
 * into the run folder, starts `<command> <job file>`, applies the job messages the
 * worker prints, and returns its outcome. The worker gets a process group of its own,
 * so a Ctrl-C at the terminal reaches only the owner, which passes each stop request on
 * exactly once.
 */
import { spawn } from "node:child_process";
import { openSync, closeSync, promises as fs } from "node:fs";
import path from "node:path";
import type { LaunchRequest, StageLauncher } from "../executor.js";
import { MessageApplier } from "./apply-message.js";
import { decodeJobMessage, LineSplitter, type JobOutcome } from "./job-messages.js";
import { specFor, writeJobSpec } from "./job-spec.js";

export interface WorkerLauncherOptions {
  /** The worker command; the job file's path is appended (e.g. node bin/mu-pipe.js run-stage). */
  readonly command: readonly string[];
  /** Threads for each worker of a stage type that computes on the backend; absent: the experiment's setting. */
  threadsFor?(request: LaunchRequest): number | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** The worker's current directory (relative paths in MU_PIPE_PLUGINS resolve against it). */
  readonly cwd?: string;
}

/** `<run>/jobs/<stage>.json` (the job), `.err` (what the worker wrote to stderr). */
export function jobFiles(runDir: string, stageId: string): { readonly spec: string; readonly stderr: string } {
  const base = path.join(runDir, "jobs", stageId);
  return { spec: `${base}.json`, stderr: `${base}.err` };
}

export function workerLauncher(options: WorkerLauncherOptions): StageLauncher {
  return {
    async launch(request) {
      const { run, stage, decision } = request;
      const files = jobFiles(run.runDir.dir, stage.id);
      await fs.mkdir(path.dirname(files.spec), { recursive: true });
      const threads = options.threadsFor?.(request);
      await writeJobSpec(
        files.spec,
        specFor(run.graph.experiment, {
          stageId: stage.id,
          forced: decision.forced,
          reason: decision.reasons.join("; "),
          runDir: run.runDir.dir,
          runId: run.runDir.id,
          ...(threads === undefined ? {} : { threads }),
        }),
      );
      return runWorker(options, files, request, new MessageApplier(run));
    },
  };
}

async function runWorker(options: WorkerLauncherOptions, files: ReturnType<typeof jobFiles>, request: LaunchRequest, applier: MessageApplier): Promise<JobOutcome> {
  const [program, ...args] = options.command;
  if (program === undefined) throw new Error("internal error: empty worker command");
  const stderr = openSync(files.stderr, "w");
  const child = spawn(program, [...args, files.spec], { detached: true, stdio: ["ignore", "pipe", stderr], env: options.env ?? process.env, ...(options.cwd ? { cwd: options.cwd } : {}) });
  closeSync(stderr);
  const out = child.stdout;
  if (!out) throw new Error("internal error: the worker has no stdout pipe");
  const lines = new LineSplitter();
  const take = (line: string): void => {
    const message = decodeJobMessage(line);
    if (message) applier.push(message);
  };
  out.setEncoding("utf8");
  out.on("data", (chunk: string) => lines.push(chunk).forEach(take));
  const ask = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
  };
  request.signal.addEventListener("abort", ask, { once: true });
  request.hurry?.addEventListener("abort", ask, { once: true });
  if (request.signal.aborted) ask();
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  request.signal.removeEventListener("abort", ask);
  request.hurry?.removeEventListener("abort", ask);
  lines.end().forEach(take);
  await applier.settled();
  if (applier.outcome) return applier.outcome;
  // The worker ended without a word on the stage (killed, crashed): the owner records it.
  const { run, stage } = request;
  if (request.signal.aborted) {
    await run.runDir.updateStage(stage.id, { status: "interrupted", error: "interrupted" });
    run.sink.emit({ type: "stage-interrupted", id: stage.id });
    return { kind: "interrupted" };
  }
  const how = exit.error ? `could not start (${exit.error.message})` : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
  const message = `the worker process ${how} before it said how the stage ended; see ${files.stderr}`;
  await run.runDir.updateStage(stage.id, { status: "failed", error: message });
  run.sink.emit({ type: "stage-failed", id: stage.id, message, logFile: files.stderr });
  return { kind: "failed", message };
}
