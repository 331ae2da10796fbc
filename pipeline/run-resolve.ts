/**
 * Which run a user means by `latest`, `latest~2`, a folder name or prefix, an
 * experiment name or a path; and, for commands that need something only some runs have
 * (a trained model, say), the newest run that has it.
 *
 * What a command needs is its own business (the engine knows nothing of models): it
 * passes a `RunRequirement`, a predicate with words for messages.
 */
import { realpath, stat } from "node:fs/promises";
import path from "node:path";

import { MuPipeError } from "./failure.js";
import { RUN_FILE } from "./run-directory.js";
import { describeOutcome, latestTarget, listRuns, readRun, type RunSummary } from "./run-folders.js";

export interface RunRequirement {
  /** What the command needs, for messages: `a trained model`. */
  readonly what: string;
  /** Why `run` does not do (e.g. `no finetune stage finished`), or null when it does. */
  check(run: RunSummary): string | null;
  /** What else the user can do, ending the message when no run does: `pass --model <model folder>`. */
  readonly otherwise: string;
}

export interface ResolvedRun {
  readonly run: RunSummary;
  /**
   * Set when `latest` or an experiment name passed over newer runs that do not meet
   * the requirement: a line saying which run was looked at, why it does not do, and
   * which was taken instead (for the command to print as a note).
   */
  readonly note?: string;
}

/**
 * The absolute folder of the run a user means. `query` may be:
 * - `latest`, or `latest~N` for the Nth run before it;
 * - a path to a run folder (absolute, or relative to `cwd`);
 * - a run folder name, or a unique prefix of one (`20261126T02`);
 * - an experiment name, meaning its newest run (`quickstart~1` for the one before).
 * Throws MuPipeError `not-found` (with candidates) when nothing or more than one run matches.
 */
export async function resolveRun(runsDir: string, query: string, cwd: string = process.cwd()): Promise<string> {
  return (await findRun(runsDir, query, cwd)).run.dir;
}

/**
 * Like `resolveRun`, with a requirement: `latest` and a bare experiment name mean the
 * newest run that succeeded and meets it (with a note when that is not the newest run);
 * a run named any other way must meet it, else a usage failure says why it does not do
 * and which run would.
 */
export async function findRun(runsDir: string, query: string, cwd: string = process.cwd(), requirement?: RunRequirement): Promise<ResolvedRun> {
  const root = path.resolve(cwd, runsDir);
  const runs = await listRuns(root);
  const names = runs.map((r) => r.id);
  const notFound = (candidates: readonly string[]): MuPipeError =>
    new MuPipeError({ reason: "not-found", what: "run", query, candidates: candidates.slice(0, 10) });
  const named = (run: RunSummary): ResolvedRun => checkNamed(run, runs, requirement);

  const exact = runs.find((r) => r.id === query);
  if (exact) return named(exact);

  const back = /^(.+?)(?:~(\d+))?$/.exec(query);
  const base = back?.[1] ?? query;
  const steps = back?.[2] === undefined ? 0 : Number(back[2]);

  if (base === "latest") {
    const target = await latestTarget(root);
    const start = target === null ? 0 : Math.max(0, runs.findIndex((r) => r.dir === target));
    if (requirement && steps === 0 && runs[start]) return newestMeeting(runs.slice(start), "latest", requirement);
    const run = runs[start + steps];
    if (run) return named(run);
    throw notFound(names);
  }

  if (looksLikePath(query)) {
    const dir = path.resolve(cwd, query);
    if (await isFile(path.join(dir, RUN_FILE))) return named(await readRun(await realpath(dir)));
    throw notFound(names);
  }

  const ofExperiment = runs.filter((r) => r.experiment === base);
  if (ofExperiment.length > 0) {
    if (requirement && steps === 0) return newestMeeting(ofExperiment, base, requirement);
    const run = ofExperiment[steps];
    if (run) return named(run);
    throw notFound(ofExperiment.map((r) => r.id));
  }

  const prefixed = runs.filter((r) => r.id.startsWith(query));
  if (prefixed.length === 1 && prefixed[0]) return named(prefixed[0]);
  throw notFound(prefixed.length > 1 ? prefixed.map((r) => r.id) : names);
}

/** A run the user named: it must meet the requirement itself (whatever its status). */
function checkNamed(run: RunSummary, runs: readonly RunSummary[], requirement: RunRequirement | undefined): ResolvedRun {
  if (!requirement) return { run };
  const why = requirement.check(run);
  if (why === null) return { run };
  const outcome = run.status === "succeeded" ? "" : ` ${describeOutcome(run)} and`;
  throw new MuPipeError({
    reason: "usage",
    message: `run ${run.id}${outcome} has no ${stripArticle(requirement.what)}: ${why}; ${alternative(runs, requirement)}`,
  });
}

/** For `latest` and experiment names: the newest of `candidates` (newest first) that succeeded and meets the requirement. */
function newestMeeting(candidates: readonly RunSummary[], label: string, requirement: RunRequirement): ResolvedRun {
  const newest = candidates[0];
  const found = candidates.find((run) => meets(run, requirement));
  if (found === newest && found) return { run: found };
  const looked = newest ? `${label} = ${newest.id} ${whyNot(newest, requirement)}` : `${label} has no runs`;
  if (!found) throw new MuPipeError({ reason: "usage", message: `${looked}; no ${label === "latest" ? "" : `${label} `}run has ${requirement.what}; ${requirement.otherwise}` });
  return { run: found, note: `${looked}; using ${found.id}, the newest run with ${requirement.what}` };
}

function meets(run: RunSummary, requirement: RunRequirement): boolean {
  return run.status === "succeeded" && requirement.check(run) === null;
}

/** `failed at finetune2`, or for a run that succeeded: `has no trained model (the run has no finetune stage)`. */
function whyNot(run: RunSummary, requirement: RunRequirement): string {
  if (run.status !== "succeeded") return describeOutcome(run);
  return `has no ${stripArticle(requirement.what)} (${requirement.check(run) ?? "?"})`;
}

function alternative(runs: readonly RunSummary[], requirement: RunRequirement): string {
  const other = runs.find((run) => meets(run, requirement));
  return other ? `the newest run with ${requirement.what} is ${other.id}, or ${requirement.otherwise}` : requirement.otherwise;
}

/** `a trained model` -> `trained model`, for "has no trained model". */
function stripArticle(what: string): string {
  return what.replace(/^(a|an|the) /, "");
}

function looksLikePath(query: string): boolean {
  return query.includes("/") || query.includes(path.sep) || query === "." || query === "..";
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
