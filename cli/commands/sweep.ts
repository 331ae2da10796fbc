/**
 * `mu-pipe sweep show [<sweep>]`: a sweep's results as one table (a row per setup, folds
 * and seeds as mean ± std); `mu-pipe sweep list`: the sweeps there are.
 */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import type { SortDirection } from "../../pipeline/sweep/aggregate.js";
import { findSweep, listSweeps, resolveSweep } from "../../pipeline/sweep/sweep-record.js";
import { formatOption, parseCommandArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { relativePath } from "../output/format.js";
import { pickGroupMetrics, pickHeadlineMetrics } from "../output/runs-table.js";
import { buildSweepTable, renderSweepTable } from "../output/sweep-table.js";
import { renderTable } from "../output/table.js";
import type { RunSummary } from "../run-lookup.js";
import { readSweepResults } from "../sweep-results.js";

const usage = `usage: mu-pipe sweep show [<sweep>] [options]
       mu-pipe sweep list [--runs-dir <dir>]

  <sweep>                       latest (default), latest~1, a sweep id or unique prefix,
                                an experiment name (its newest sweep), or one of its runs
  --runs-dir <dir>              where runs live (default: runs)
  --metric <stage.name>         a metric column (repeatable); default: up to three whose
                                name contains f1, dice or loss, then the pooled F1 of the
                                groups of attributes that split every image
                                (evaluate.kind=webcam.pooled_f1, ...; at most 8); other
                                group figures: --metric evaluate.kind=webcam.f1
  --sort <stage.name>[:asc|desc] sort by this metric's mean, best first (default: the first
                                metric; losses and errors ascending, others descending)
  --format table|md|csv|json|html  output format (default: table); html writes a page with
                                charts of each metric against each swept param
  --out <file>                  where --format html writes (default: <runs-dir>/sweep-<id>.html)

Folds and seeds are averaged: each metric is mean ± sample std (n-1) over the runs that
succeeded; failed and unfinished runs are counted in their row.`;

const options = {
  "runs-dir": { type: "string", default: "runs" },
  metric: { type: "string", multiple: true },
  sort: { type: "string" },
  format: { type: "string", default: "table" },
  out: { type: "string" },
} as const;

export const sweepCommand: Command = {
  name: "sweep",
  summary: "a sweep's results: one row per setup, mean ± std over folds",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const [verb, ...rest] = positionals;
    const runsDir = path.resolve(io.cwd, values["runs-dir"]);
    if (verb === "list") {
      if (rest.length > 0) throw new MuPipeError({ reason: "usage", message: `unexpected argument ${rest[0]}`, hint: usage });
      const sweeps = await listSweeps(runsDir);
      if (sweeps.length === 0) io.out(`no sweeps in ${values["runs-dir"]}`);
      else {
        const rows = sweeps.map((s) => [s.id, s.status, String(s.combinations.length), s.keys.map((k) => k.short).join(", ")]);
        io.out(renderTable([{ header: "SWEEP" }, { header: "STATUS" }, { header: "RUNS", align: "right" }, { header: "SWEPT" }], rows));
      }
      return 0;
    }
    if (verb !== "show") throw new MuPipeError({ reason: "usage", message: verb === undefined ? "sweep needs `show` or `list`" : `unknown sweep command ${verb}`, hint: usage });
    if (rest.length > 1) throw new MuPipeError({ reason: "usage", message: "sweep show takes one sweep", hint: usage });
    return showSweep(runsDir, rest[0] ?? "latest", values, io);
  },
};

export interface ShowSweepValues {
  readonly metric?: readonly string[];
  readonly sort?: string;
  readonly format?: string;
  readonly out?: string;
}

/** Also what `show` and `compare` do when they are given a sweep. */
export async function showSweep(runsDir: string, query: string, values: ShowSweepValues, io: CommandIO): Promise<number> {
  const format = formatOption(values.format ?? "table", ["table", "md", "csv", "json", "html"], usage);
  if (values.out !== undefined && format !== "html") throw new MuPipeError({ reason: "usage", message: "--out is for --format html", hint: usage });
  const sweep = await resolveSweep(runsDir, query);
  const results = await readSweepResults(runsDir, sweep);
  const runs = results.runs.filter((r): r is RunSummary => r !== null);
  const metrics = values.metric && values.metric.length > 0 ? [...values.metric] : [...pickHeadlineMetrics(runs), ...pickGroupMetrics(runs)];
  const sort = parseSort(values.sort, metrics);
  if (sort && !metrics.includes(sort.metric)) metrics.unshift(sort.metric);
  const table = buildSweepTable(results, metrics, sort);
  if (format !== "html") {
    io.out(renderSweepTable(table, format));
    return 0;
  }
  const { writeSweepPage } = await import("../report/write-report.js");
  const { loadRegistry } = await import("../registry.js");
  const out = values.out === undefined ? path.join(runsDir, `sweep-${sweep.id}.html`) : path.resolve(io.cwd, values.out);
  await writeSweepPage(out, { table, results, registry: await loadRegistry(io.env, io.cwd) });
  io.out(relativePath(io.cwd, out));
  return 0;
}

function parseSort(value: string | undefined, metrics: readonly string[]): { metric: string; direction?: SortDirection } | null {
  if (value === undefined) return metrics[0] === undefined ? null : { metric: metrics[0] };
  const match = /^(.+?)(?::(asc|desc))?$/.exec(value);
  if (!match?.[1]) throw new MuPipeError({ reason: "usage", message: `--sort must be <stage.metric>[:asc|desc], not ${value}`, hint: usage });
  return match[2] === undefined ? { metric: match[1] } : { metric: match[1], direction: match[2] as SortDirection };
}

/**
 * For `show` and `compare`: when their first argument is a sweep id, they show the
 * sweep's table (with `sweep show`'s options); null otherwise.
 */
export async function showIfSweep(argv: readonly string[], io: CommandIO): Promise<number | null> {
  const [first] = argv;
  if (first === undefined || first.startsWith("-")) return null;
  const at = argv.indexOf("--runs-dir");
  const runsDir = path.resolve(io.cwd, (at >= 0 ? argv[at + 1] : undefined) ?? "runs");
  if (!(await findSweep(runsDir, first))) return null;
  return sweepCommand.run(["show", ...argv], io);
}
