/** `mu-pipe show <run>`: one run's stages (status, reason, duration, artifact) and metrics. */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { formatOption, parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { renderRunDetails, runDetailsAsJson } from "../output/run-details.js";
import { readRun, resolveRun } from "../run-lookup.js";

const usage = `usage: mu-pipe show [<run>] [options]

  <run>                  latest (default), latest~1, a run folder name or unique prefix,
                         an experiment name (its newest run), or a path to a run folder
  --runs-dir <dir>       where runs live (default: runs)
  --format text|json     output format (default: text)`;

const options = {
  "runs-dir": { type: "string", default: "runs" },
  format: { type: "string", default: "text" },
} as const;

export const showCommand: Command = {
  name: "show",
  summary: "show one run: stages, reasons, metrics",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    if (positionals.length > 1) throw new MuPipeError({ reason: "usage", message: "show takes one run", hint: usage });
    const format = formatOption(values.format, ["text", "json"], usage);
    const query = positionals[0] ?? "latest";
    const dir = await resolveRun(path.resolve(io.cwd, values["runs-dir"]), query, io.cwd);
    const run = await readRun(dir);
    io.out(format === "json" ? runDetailsAsJson(run) : renderRunDetails(run, io.cwd));
    return 0;
  },
};
