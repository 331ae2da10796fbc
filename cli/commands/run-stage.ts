/**
 * `mu-pipe run-stage <job file>`: the entry point of a worker process (`--jobs`) and of a
 * Slurm job. Runs the stage the job file names and prints job messages on stdout for
 * the process that owns the run (pipeline/jobs/job-messages.ts). Exit 0 when the stage
 * is done, 1 when it failed, 130 when it was stopped (SIGINT or SIGTERM: Slurm's scancel
 * and time limit send SIGTERM first).
 */
import { readJobSpec } from "../../pipeline/jobs/job-spec.js";
import { runJob } from "../../pipeline/jobs/run-job.js";
import { parseCommandArgs, requirePositionals } from "../args.js";
import type { Command } from "../command.js";
import { loadRegistry } from "../registry.js";
import { exitSoonIfHurried, listenForStop } from "../stop-signals.js";
import { openExperimentStore } from "../store-session.js";

const usage = `usage: mu-pipe run-stage <job file>

  <job file>   <run>/jobs/<stage>.json, written by \`mu-pipe run --jobs N\` or --executor slurm`;

export const runStageCommand: Command = {
  name: "run-stage",
  summary: "run one stage from a job file",
  usage,
  async run(argv, io) {
    const { positionals } = parseCommandArgs(argv, {}, usage);
    const [file] = requirePositionals(positionals, 1, "the job file", usage);
    const spec = await readJobSpec(file ?? "");
    const registry = await loadRegistry(io.env, io.cwd);
    const { store, digestExternal, saveDigestCache } = await openExperimentStore(spec.experiment.settings.storeDir);
    const signals = listenForStop();
    try {
      const outcome = await runJob(spec, {
        registry,
        store,
        digestExternal,
        write: (text) => void process.stdout.write(text),
        progressEveryMs: Number(io.env.MU_PIPE_PROGRESS_MS ?? 0) || 0,
        signal: signals.stop,
        hurry: signals.hurry,
      });
      await saveDigestCache();
      return outcome.kind === "done" ? 0 : outcome.kind === "failed" ? 1 : 130;
    } finally {
      signals.dispose();
      exitSoonIfHurried(signals);
    }
  },
};
