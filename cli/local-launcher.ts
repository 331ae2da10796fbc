/**
 * Picks how a local run's stages are run: in this process with one job (as before
 * `--jobs`), else each in a worker process (`mu-pipe run-stage <job file>`), with the
 * machine's cores divided between the workers of stages that compute on the backend.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LaunchRequest, StageLauncher } from "../pipeline/executor.js";
import { inProcessLauncher } from "../pipeline/jobs/in-process-launcher.js";
import { workerLauncher } from "../pipeline/jobs/worker-launcher.js";

export function localLauncher(jobs: number, io: { readonly env: NodeJS.ProcessEnv; readonly cwd: string }): StageLauncher {
  if (jobs <= 1) return inProcessLauncher();
  return workerLauncher({ command: workerCommand(), threadsFor: (request) => threadsPerJob(request, jobs), env: io.env, cwd: io.cwd });
}

/** The command that runs one stage from a job file: this mu-pipe's own launcher. */
export function workerCommand(): string[] {
  return [process.execPath, muPipeBin(), "run-stage"];
}

/** bin/mu-pipe.js of this package: the compiled file sits one folder deeper (dist/cli) than the source (cli). */
export function muPipeBin(): string {
  for (const relative of ["../bin/mu-pipe.js", "../../bin/mu-pipe.js"]) {
    const file = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(file)) return file;
  }
  return path.resolve("bin/mu-pipe.js");
}

/**
 * A backend stage's threads when `jobs` run at once: the cores shared out, unless the
 * experiment sets `runtime.threads` itself. Other stages keep their own setting.
 */
function threadsPerJob(request: LaunchRequest, jobs: number): number | undefined {
  if (request.stage.type.usesBackend !== true) return undefined;
  if (request.run.graph.experiment.settings.runtime.threads !== undefined) return undefined;
  return Math.max(1, Math.floor(os.availableParallelism() / jobs));
}
