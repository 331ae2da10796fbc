/** `mu-pipe runs [<experiment>]`: every run, newest first, with status, stage counts and headline metrics. */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import type { MetricValue } from "../../pipeline/stage.js";
import { formatOption, parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { metricDirection } from "../output/metric-direction.js";
import { pickHeadlineMetrics, renderRunsTable, runsAsJson } from "../output/runs-table.js";
import { flattenRunMetrics, listRuns, type RunSummary } from "../run-lookup.js";

const usage = `usage: mu-pipe runs [<experiment>] [options]
       mu-pipe runs rm <run>... | --failed | --older-than <age> [options]

  <experiment>           only this experiment's runs
  --runs-dir <dir>       where runs live (default: runs)
  --format table|json    output format (default: table)
  --metric <stage.name>  a metric column to show (repeatable); default: up to three
                         whose name contains f1, dice or loss
  --sort <stage.name>    best first by this metric (higher first, or lower first for a
                         loss or error); runs without it last
  --limit <n>            show only the first n runs (the columns stay those of all runs)
  --sweep <sweep>        only the runs of this sweep (latest, an id or prefix, an experiment name)

\`mu-pipe runs rm --help\` tells how to delete runs.`;

const options = {
  "runs-dir": { type: "string", default: "runs" },
  format: { type: "string", default: "table" },
  metric: { type: "string", multiple: true },
  sort: { type: "string" },
  limit: { type: "string" },
  sweep: { type: "string" },
} as const;

export const runsCommand: Command = {
  name: "runs",
  summary: "list runs with status and headline metrics; `runs rm` deletes runs",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    if (positionals.length > 1) throw new MuPipeError({ reason: "usage", message: `runs takes one experiment name, got ${positionals.join(" ")}`, hint: usage });
    const format = formatOption(values.format, ["table", "json"], usage);
    const runsDir = path.resolve(io.cwd, values["runs-dir"]);
    let runs = await listRuns(runsDir);
    if (values.sweep !== undefined) {
      const { resolveSweep } = await import("../../pipeline/sweep/sweep-record.js");
      const sweep = await resolveSweep(runsDir, values.sweep);
      runs = runs.filter((run) => run.record?.sweep?.id === sweep.id);
    }
    const experiment = positionals[0];
    if (experiment !== undefined) {
      const names = [...new Set(runs.map((run) => run.experiment))];
      if (!names.includes(experiment)) throw new MuPipeError({ reason: "not-found", what: "experiment with runs", query: experiment, candidates: names });
      runs = runs.filter((run) => run.experiment === experiment);
    }
    if (values.sort !== undefined) runs = sortByMetric(runs, values.sort);
    // Columns come from every listed run, so --limit changes the rows, not the columns.
    const metricKeys = values.metric && values.metric.length > 0 ? values.metric : pickHeadlineMetrics(runs);
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
    const where = experiment === undefined ? values["runs-dir"] : `${values["runs-dir"]} for ${experiment}`;
    io.out(runs.length === 0 ? `no runs in ${where}\n` : renderRunsTable(runs, metricKeys));
    return 0;
  },
};

/** Best first by `key` (its direction from the name; unknown: higher first); runs without a number for it last, newest first. */
function sortByMetric(runs: readonly RunSummary[], key: string): RunSummary[] {
  const known = runs.some((run) => typeof flattenRunMetrics(run).get(key) === "number");
  if (!known) {
    const keys = [...new Set(runs.flatMap((run) => [...flattenRunMetrics(run).keys()]))];
    throw new MuPipeError({ reason: "not-found", what: "metric for --sort", query: key, candidates: keys });
  }
  const sign = metricDirection(key) === "lower" ? 1 : -1;
  const value = (run: RunSummary): MetricValue | undefined => flattenRunMetrics(run).get(key);
  return runs
    .map((run, index) => ({ run, index, value: value(run) }))
    .sort((a, b) => {
      const av = typeof a.value === "number" ? a.value : null;
      const bv = typeof b.value === "number" ? b.value : null;
      if (av === null || bv === null) return av === bv ? a.index - b.index : av === null ? 1 : -1;
      return sign * (av - bv) || a.index - b.index;
    })
    .map((entry) => entry.run);
}
