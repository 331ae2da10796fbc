/**
 * `mu-pipe cancel <run>`: cancels a Slurm run's jobs that are queued or running
 * (scancel). A command still following the run records how they ended; for a detached
 * run, whose command is gone, cancel records it itself.
 */
import { MuPipeError } from "../../pipeline/failure.js";
import { RunDirectory } from "../../pipeline/run-directory.js";
import { isProcessAlive } from "../../pipeline/store/atomic-file.js";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { liveJobs } from "../cluster-jobs.js";
import { readRun, singleRunArgument } from "../run-lookup.js";

const usage = `usage: mu-pipe cancel [<run>] [--runs-dir <dir>]

  <run>              latest (default), a run folder name or unique prefix, an experiment
                     name (its newest run), or a path to a run folder
  --runs-dir <dir>   where runs live (default: runs)

Cancels the run's Slurm jobs that are still queued or running. A fine-tune stopped this
way keeps its last epoch checkpoint: running the experiment again resumes it.`;

const options = { "runs-dir": { type: "string", default: "runs" } } as const;

export const cancelCommand: Command = {
  name: "cancel",
  summary: "cancel a Slurm run's queued and running jobs",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const dir = await singleRunArgument("cancel", positionals, values["runs-dir"], io.cwd, usage);
    const run = await readRun(dir);
    const record = run.record;
    if (!record) throw new MuPipeError({ reason: "io", path: dir, message: run.problem ?? "run.json unreadable" });
    if (record.executor?.kind !== "slurm") {
      throw new MuPipeError({ reason: "usage", message: `run ${run.id} did not run on Slurm; a local run stops with Ctrl-C in its terminal (or kill -INT ${record.pid})` });
    }
    // Only jobs Slurm still holds: one that ended has its result (or failure) in the store already.
    const { jobs: known, problem } = await liveJobs(record);
    if (problem !== null) throw new MuPipeError({ reason: "usage", message: problem });
    const jobs = known.filter((j) => !j.final);
    if (jobs.length === 0) {
      io.out(`nothing to cancel: no Slurm job of ${run.id} is queued or running`);
      return 0;
    }
    const { cancelJobs } = await import("../../pipeline/slurm/index.js");
    await cancelJobs(jobs.map((j) => j.jobId));
    io.out(`cancelled Slurm job${jobs.length === 1 ? "" : "s"} ${jobs.map((j) => `${j.jobId} (${j.stageId})`).join(", ")} of ${run.id}`);
    const owner = record.hostname === (await import("node:os")).hostname() && isProcessAlive(record.pid, record.processStart ?? null);
    if (!owner) {
      // Nobody follows this run any more: say in run.json what happened.
      const runDir = await RunDirectory.open(dir);
      for (const job of jobs) await runDir.updateStage(job.stageId, { status: "interrupted", error: `cancelled (mu-pipe cancel, Slurm job ${job.jobId})`, finishedAt: new Date().toISOString() });
      await runDir.finish("interrupted");
    } else {
      io.out(`the command following it (pid ${record.pid}) records how the jobs ended`);
    }
    return 0;
  },
};
