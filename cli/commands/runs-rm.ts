/** `mu-pipe runs rm`: deletes runs by reference or by filter; `gc` then frees what only they used. */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { describeOutcome, sortTime } from "../../pipeline/run-folders.js";
import { removeRuns } from "../../pipeline/run-removal.js";
import { parseAge, parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { listRuns, resolveRun, type RunSummary } from "../run-lookup.js";
import { runGc } from "./gc.js";

const usage = `usage: mu-pipe runs rm [<run>...] [--failed] [--older-than <age>] [options]

  <run>...               runs to delete: latest, latest~1, a run folder name or unique
                         prefix, an experiment name (its newest run), or a path
  --failed               runs that failed, were interrupted or died (with <run>s: only those)
  --older-than <age>     runs started longer ago than this, e.g. 12h, 7d, 2w
                         (with --failed or <run>s: only those)
  --dry-run              say which runs would go, delete nothing
  --gc                   then run \`mu-pipe gc\`, freeing the artifacts only they used
  --runs-dir <dir>       where runs live (default: runs)

A run still running is refused. If runs/latest pointed at a deleted run, it moves to the
newest run left. The stored artifacts stay until \`mu-pipe gc\`.`;

const options = {
  failed: { type: "boolean", default: false },
  "older-than": { type: "string" },
  "dry-run": { type: "boolean", default: false },
  gc: { type: "boolean", default: false },
  "runs-dir": { type: "string", default: "runs" },
} as const;

const FAILED: ReadonlySet<RunSummary["status"]> = new Set(["failed", "interrupted", "died"]);

export const runsRmCommand: Command = {
  name: "runs rm",
  summary: "delete runs (then `mu-pipe gc` frees the artifacts only they used)",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    if (positionals.length === 0 && !values.failed && values["older-than"] === undefined) {
      throw new MuPipeError({ reason: "usage", message: "runs rm needs runs to delete, --failed or --older-than", hint: usage });
    }
    const maxAge = values["older-than"] === undefined ? null : parseAge(values["older-than"], "--older-than", usage);
    const runsDir = path.resolve(io.cwd, values["runs-dir"]);
    const all = await listRuns(runsDir);
    let chosen = all;
    if (positionals.length > 0) {
      const dirs = new Set<string>();
      for (const query of positionals) dirs.add(await resolveRun(runsDir, query, io.cwd));
      chosen = all.filter((run) => dirs.has(run.dir));
    }
    if (values.failed) chosen = chosen.filter((run) => FAILED.has(run.status));
    if (maxAge !== null) {
      const cutoff = Date.now() - maxAge;
      chosen = chosen.filter((run) => sortTime(run) < cutoff);
    }
    if (chosen.length === 0) {
      io.out("no runs match; nothing removed");
      return 0;
    }
    const dryRun = values["dry-run"];
    const result = await removeRuns(runsDir, chosen, { dryRun });
    io.out(`${dryRun ? "would remove" : "removed"} ${chosen.length} run(s):`);
    for (const run of result.removed) io.out(`  ${run.id}  ${describeOutcome(run)}`);
    if (result.latest !== undefined) io.out(result.latest === null ? `${values["runs-dir"]}/latest removed: no run left` : `${values["runs-dir"]}/latest now points at ${result.latest}`);
    if (dryRun) return 0;
    if (values.gc) await runGc(io, { runsDir: values["runs-dir"], dryRun: false });
    else io.out("`mu-pipe gc` frees the stored artifacts only they used");
    return 0;
  },
};
