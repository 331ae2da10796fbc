/**
 * Whether a Slurm cluster can take jobs here: null when it can, else what is missing.
 * For tests (skipUnlessAvailable) and for a clear message before submitting anything.
 */
import { SlurmError } from "./errors.js";
import { processSlurmRunner, runSlurmCommand, type SlurmRunner } from "./runner.js";

/** Node states (sinfo %t) in which a node takes jobs. */
const UP_STATES = new Set(["idle", "mix", "mixed", "alloc", "allocated", "comp", "completing"]);

export async function slurmAvailable(runner: SlurmRunner = processSlurmRunner): Promise<string | null> {
  try {
    for (const command of ["sbatch", "squeue", "sacct", "scancel"]) {
      const result = await runner.run(command, ["--version"], { timeoutMs: 10_000 });
      if (!result.found) return `${command} is not on PATH`;
    }
    const nodes = await runSlurmCommand(runner, "sinfo", ["--noheader", "--responding", "--format=%n %t"], { timeoutMs: 20_000 });
    const up = nodes.split("\n").filter((line) => UP_STATES.has(line.trim().split(/\s+/)[1]?.replace(/[*~#!%$@^-]$/, "") ?? ""));
    if (up.length === 0) return `no node takes jobs (sinfo --responding: ${nodes.trim() || "no nodes"})`;
    // sacct fails when there is no accounting storage (slurmdbd); the executor needs it for finished jobs.
    await runSlurmCommand(runner, "sacct", ["--noheader", "--parsable2", "--allocations", "--format=JobID", "--starttime=now"], { timeoutMs: 20_000 });
    return null;
  } catch (error) {
    if (error instanceof SlurmError) return error.message;
    throw error;
  }
}
