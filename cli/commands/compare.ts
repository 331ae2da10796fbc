/**
 * `mu-pipe compare <run> <run>...`: which params differ between the runs' resolved
 * configs (each run's config.yaml), and every metric side by side with its change
 * relative to the first run. `--format html` writes a page that also draws each
 * stage's curves of every run over each other.
 */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { formatOption, parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { compareRuns, readRunConfig } from "../compare-runs.js";
import { changedOnly, renderComparison } from "../output/comparison.js";
import { relativePath } from "../output/format.js";
import { readRun, resolveRun } from "../run-lookup.js";

const usage = `usage: mu-pipe compare <run> <run>... [options]

  <run>                         latest, latest~1, a run folder name or unique prefix,
                                an experiment name (its newest run), or a path to a run folder
  --runs-dir <dir>              where runs live (default: runs)
  --format table|md|json|html   output format (default: table); md gives GitHub markdown tables,
                                html a page with the runs' training curves drawn over each other
  --changed-only                only metrics (and environment values) that differ between the runs
  --out <file>                  where --format html writes (default: <runs-dir>/compare-<run>-vs-<run>.html)

Given a sweep id, compares all its runs in one table (as mu-pipe sweep show).`;

const options = {
  "runs-dir": { type: "string", default: "runs" },
  format: { type: "string", default: "table" },
  out: { type: "string" },
  "changed-only": { type: "boolean", default: false },
} as const;

export const compareCommand: Command = {
  name: "compare",
  summary: "compare runs: differing params, metric deltas",
  usage,
  async run(argv, io) {
    const sweep = await (await import("./sweep.js")).showIfSweep(argv, io); // a sweep id: its results table
    if (sweep !== null) return sweep;
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const format = formatOption(values.format, ["table", "md", "json", "html"], usage);
    if (positionals.length < 2) throw new MuPipeError({ reason: "usage", message: "compare needs at least two runs", hint: usage });
    if (values.out !== undefined && format !== "html") throw new MuPipeError({ reason: "usage", message: "--out is for --format html", hint: usage });
    const runsDir = path.resolve(io.cwd, values["runs-dir"]);
    const dirs: string[] = [];
    for (const query of positionals) dirs.push(await resolveRun(runsDir, query, io.cwd));
    const runs = await Promise.all(dirs.map((dir) => readRun(dir)));
    const configs = await Promise.all(runs.map((run) => readRunConfig(run.dir)));
    const all = compareRuns(runs, configs);
    const comparison = values["changed-only"] ? changedOnly(all) : all;
    if (format !== "html") {
      io.out(renderComparison(comparison, format));
      return 0;
    }
    const { writeComparisonPage, defaultComparisonFile } = await import("../report/write-report.js");
    const { loadRegistry } = await import("../registry.js");
    const out = values.out === undefined ? defaultComparisonFile(runsDir, runs) : path.resolve(io.cwd, values.out);
    await writeComparisonPage(out, { comparison, runs, configs, registry: await loadRegistry(io.env, io.cwd) });
    io.out(relativePath(io.cwd, out));
    return 0;
  },
};
