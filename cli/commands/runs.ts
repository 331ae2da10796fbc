/** `mu-pipe runs`: every run, newest first, with status, stage counts and headline metrics. */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { formatOption, parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { pickHeadlineMetrics, renderRunsTable, runsAsJson } from "../output/runs-table.js";
import { listRuns } from "../run-lookup.js";

const usage = `usage: mu-pipe runs [options]

  --runs-dir <dir>       where runs live (default: runs)
  --format table|json    output format (default: table)
  --metric <stage.name>  a metric column to show (repeatable); default: up to three
                         whose name contains f1, dice or loss
  --limit <n>            show only the newest n runs
  --sweep <sweep>        only the runs of this sweep (latest, an id or prefix, an experiment name)`;

const options = {
  "runs-dir": { type: "string", default: "runs" },
  format: { type: "string", default: "table" },
  metric: { type: "string", multiple: true },
  limit: { type: "string" },
  sweep: { type: "string" },
} as const;

export const runsCommand: Command = {
  name: "runs",
  summary: "list runs with status and headline metrics",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    if (positionals.length > 0) throw new MuPipeError({ reason: "usage", message: `unexpected argument ${positionals[0]}`, hint: usage });
    const format = formatOption(values.format, ["table", "json"], usage);
    let runs = await listRuns(path.resolve(io.cwd, values["runs-dir"]));
    if (values.sweep !== undefined) {
      const { resolveSweep } = await import("../../pipeline/sweep/sweep-record.js");
      const sweep = await resolveSweep(path.resolve(io.cwd, values["runs-dir"]), values.sweep);
      runs = runs.filter((run) => run.record?.sweep?.id === sweep.id);
    }
    if (values.limit !== undefined) {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new MuPipeError({ reason: "usage", message: `--limit must be a positive whole number, not ${values.limit}`, hint: usage });
      }
      runs = runs.slice(0, limit);
    }
    if (format === "json") {
      io.out(runsAsJson(runs));
      return 0;
    }
    const metricKeys = values.metric && values.metric.length > 0 ? values.metric : pickHeadlineMetrics(runs);
    io.out(runs.length === 0 ? `no runs in ${values["runs-dir"]}\n` : renderRunsTable(runs, metricKeys));
    return 0;
  },
};
