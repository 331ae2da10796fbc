/**
 * Run lookup for commands: the reader and resolver live in pipeline/ (run-folders.ts,
 * run-resolve.ts) and are re-exported here; this module adds what only commands need.
 */
import path from "node:path";

import { MuPipeError } from "../pipeline/failure.js";
import { resolveRun } from "../pipeline/run-resolve.js";

export { flattenRunMetrics, listRuns, readRun, type RunSummary, type StageCounts } from "../pipeline/run-folders.js";
export { findRun, resolveRun, type ResolvedRun, type RunRequirement } from "../pipeline/run-resolve.js";

/**
 * The run folder named by a command's one optional positional (default `latest`), for
 * commands that act on a single run (`show`, `report`).
 */
export async function singleRunArgument(command: string, positionals: readonly string[], runsDir: string, cwd: string, usage: string): Promise<string> {
  if (positionals.length > 1) throw new MuPipeError({ reason: "usage", message: `${command} takes one run`, hint: usage });
  return resolveRun(path.resolve(cwd, runsDir), positionals[0] ?? "latest", cwd);
}
