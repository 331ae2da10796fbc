/** The command-line side of `--executor slurm`: the flag, the check that Slurm is there, what `--detach` prints. */
import { EXECUTORS, type ExecutorName } from "../pipeline/config/execution-settings.js";
import { MuPipeError } from "../pipeline/failure.js";

/** `--executor local|slurm`, or absent (the experiment's `settings.executor`). */
export function parseExecutor(value: string | undefined, usage: string): ExecutorName | undefined {
  if (value === undefined) return undefined;
  const found = EXECUTORS.find((e) => e === value);
  if (found === undefined) throw new MuPipeError({ reason: "usage", message: `--executor must be ${EXECUTORS.join(" or ")}, not ${value}`, hint: usage });
  return found;
}

/** Stops before any run folder exists when Slurm cannot be reached. */
export async function requireSlurm(): Promise<void> {
  const { slurmAvailable } = await import("../pipeline/slurm/index.js");
  const problem = await slurmAvailable();
  if (problem !== null) throw new MuPipeError({ reason: "usage", message: `--executor slurm needs a Slurm cluster: ${problem}` });
}

/** What --detach prints: the jobs, and how to follow, re-attach and cancel. */
export function detachedText(submitted: readonly { stageId: string; jobId: string; attached: boolean }[], runId: string): string {
  if (submitted.length === 0) return `nothing to submit: every stage is cached (run ${runId})\n`;
  const lines = submitted.map((s) => `  ${s.stageId.padEnd(12)} Slurm job ${s.jobId}${s.attached ? " (already queued: attached)" : ""}`);
  return [
    `submitted ${submitted.length} job${submitted.length === 1 ? "" : "s"} for run ${runId}:`,
    ...lines,
    `follow: mu-pipe show ${runId}   (or run the same command again to re-attach)`,
    `cancel: mu-pipe cancel ${runId}`,
    "",
  ].join("\n");
}
