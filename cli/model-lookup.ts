/**
 * The model folder a command's argument names, for `mu-pipe export` and `mu-pipe predict
 * --model`: a mu-pipe model folder (with mu-model.json), a run folder (run.json), or a
 * run name that `resolveRun` knows. In a run the library's `modelInRun` decides which
 * model: `best` is the threshold stage's model when there is one, else the last
 * finetune stage's best.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";

import { MuPipeError } from "../pipeline/failure.js";
import { ExportError } from "../stages/export/export-error.js";
import { modelInRun, tensorsInRun, type ModelChoice } from "../stages/export/model-in-run.js";
import { METADATA_JSON, MODEL_JSON } from "../stages/model/model-files.js";
import { findRun, readRun } from "./run-lookup.js";
import { trainedModelRequirement } from "./trained-model.js";

export interface FoundModel {
  /** Absolute path of the model folder. */
  readonly dir: string;
  /** Where it came from, for people: `model folder m`, `run X (stage finetune2, best model)`. */
  readonly description: string;
  /** Whether `query` named a model folder itself (not a run). */
  readonly isFolder: boolean;
  /** The run's tensors (its last resize stage's output), when `query` named a run that has them. */
  readonly tensorsDir: string | null;
}

export interface LookupOptions {
  /** Ends the message when no run has a trained model, e.g. "pass --model <model folder>". */
  readonly otherwise: string;
  /** Told which run `latest` or an experiment name stood for when it passed over runs without a model. */
  readonly onNote: (note: string) => void;
}

/** The model `query` names; usage failures (exit 2) say what the query is and what was expected. */
export async function findModel(query: string, choice: ModelChoice, runsDir: string, cwd: string, options: LookupOptions): Promise<FoundModel> {
  const candidate = path.resolve(cwd, query);
  const runDir = await runFolder(query, candidate, runsDir, cwd, choice, options);
  if (runDir === null) return { dir: candidate, description: `model folder ${query}`, isFolder: true, tensorsDir: null };
  const run = await readRun(runDir);
  if (run.record === null) throw new MuPipeError({ reason: "usage", message: `${runDir}: cannot read the run (${run.problem ?? "run.json is unreadable"})` });
  try {
    const found = modelInRun(runDir, run.record.stages, choice);
    return { dir: found.dir, description: `run ${run.id} (${found.description})`, isFolder: false, tensorsDir: tensorsInRun(runDir, run.record.stages) };
  } catch (error) {
    if (error instanceof ExportError) throw new MuPipeError({ reason: "usage", message: error.message });
    throw error;
  }
}

/**
 * The run folder `query` names, or null when `candidate` (query as a path) is a model folder.
 * A bare name is looked up as a run unless it names a model or run folder here.
 */
async function runFolder(query: string, candidate: string, runsDir: string, cwd: string, choice: ModelChoice, options: LookupOptions): Promise<string | null> {
  const isDir = existsSync(candidate) && statSync(candidate).isDirectory();
  if (isDir && existsSync(path.join(candidate, METADATA_JSON))) return null;
  if (isDir && existsSync(path.join(candidate, "run.json"))) return candidate;
  const looksLikePath = query.includes("/") || query.includes(path.sep) || query === "." || query === "..";
  const problem = !existsSync(candidate)
    ? "does not exist (expected a mu-pipe model folder or a run folder)"
    : !isDir
      ? `is a file; expected a mu-pipe model folder (with ${METADATA_JSON}) or a run`
      : existsSync(path.join(candidate, MODEL_JSON))
        ? `a TF.js model but not a mu-pipe model folder: it has no ${METADATA_JSON} (input size, input scaling, threshold)`
        : `neither a mu-pipe model folder (no ${METADATA_JSON}) nor a run (no run.json)`;
  if (looksLikePath) throw new MuPipeError({ reason: "usage", message: `${candidate}: ${problem}` });
  try {
    // `latest` or an experiment name means the newest run that has a trained model.
    const resolved = await findRun(path.resolve(cwd, runsDir), query, cwd, trainedModelRequirement(options.otherwise, choice));
    if (resolved.note) options.onNote(resolved.note);
    return resolved.run.dir;
  } catch (error) {
    if (error instanceof MuPipeError && error.failure.reason === "not-found") {
      // A folder of that name is here, so that is what was meant.
      if (existsSync(candidate)) throw new MuPipeError({ reason: "usage", message: `${candidate}: ${problem}` });
      throw new MuPipeError({ ...error.failure, what: "run or model folder" });
    }
    throw error;
  }
}
