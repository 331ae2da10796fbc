/** `mu-pipe report [<run>]`: rebuilds a run's report.html and prints where it is. */
import path from "node:path";

import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { relativePath } from "../output/format.js";
import { loadRegistry } from "../registry.js";
import { singleRunArgument } from "../run-lookup.js";

const usage = `usage: mu-pipe report [<run>] [options]

  <run>                  latest (default), latest~1, a run folder name or unique prefix,
                         an experiment name (its newest run), or a path to a run folder
  --runs-dir <dir>       where runs live (default: runs)
  --out <file>           write the page here instead of <run>/report.html

The page is one self-contained HTML file (no network needed): the run's config and what
changed since the previous run, metrics, training and threshold curves, the best and
worst images by F1, and the time and cache use of every stage.`;

const options = {
  "runs-dir": { type: "string", default: "runs" },
  out: { type: "string" },
} as const;

export const reportCommand: Command = {
  name: "report",
  summary: "write a run's report.html (curves, metrics, overlays, stage times)",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const dir = await singleRunArgument("report", positionals, values["runs-dir"], io.cwd, usage);
    const { writeRunReport } = await import("../report/write-report.js");
    const out = await writeRunReport(dir, await loadRegistry(io.env, io.cwd), values.out === undefined ? undefined : path.resolve(io.cwd, values.out));
    io.out(relativePath(io.cwd, out));
    return 0;
  },
};
