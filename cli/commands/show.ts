/** `mu-pipe show <run>`: one run's stages (status, reason, duration, artifact) and metrics. */
import { formatOption, parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { renderRunDetails, runDetailsAsJson } from "../output/run-details.js";
import { readRun, singleRunArgument } from "../run-lookup.js";

const usage = `usage: mu-pipe show [<run>] [options]

  <run>                  latest (default), latest~1, a run folder name or unique prefix,
                         an experiment name (its newest run), or a path to a run folder
  --runs-dir <dir>       where runs live (default: runs)
  --format text|json     output format (default: text)

Given a sweep id, shows the sweep's results (as mu-pipe sweep show).`;

const options = {
  "runs-dir": { type: "string", default: "runs" },
  format: { type: "string", default: "text" },
} as const;

export const showCommand: Command = {
  name: "show",
  summary: "show one run: stages, reasons, metrics",
  usage,
  async run(argv, io) {
    const sweep = await (await import("./sweep.js")).showIfSweep(argv, io); // a sweep id: its results table
    if (sweep !== null) return sweep;
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const format = formatOption(values.format, ["text", "json"], usage);
    const dir = await singleRunArgument("show", positionals, values["runs-dir"], io.cwd, usage);
    const run = await readRun(dir);
    // A run on Slurm: its stages' jobs as Slurm sees them now (the submitting command may be gone).
    const jobs = run.record?.executor?.kind === "slurm" ? await (await import("../cluster-jobs.js")).liveJobs(run.record) : null;
    io.out(format === "json" ? runDetailsAsJson(run, jobs?.jobs) : renderRunDetails(run, io.cwd, jobs ?? undefined));
    return 0;
  },
};
