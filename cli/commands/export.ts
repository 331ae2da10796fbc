/**
 * `mu-pipe export <run | model folder> --format tfjs|keras|web --out <path>`: a trained model for
 * use outside mu-pipe. cli/main.ts loads this module (and with it TensorFlow.js and h5wasm)
 * only when the command runs.
 */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { ExportError } from "../../stages/export/export-error.js";
import { EXPORT_FORMATS, exportModel } from "../../stages/export/export-model.js";
import { kerasNotes } from "../../stages/export/feeding-notes.js";
import { MODEL_CHOICES, type ModelChoice } from "../../stages/export/model-in-run.js";
import { KerasWeightsFileError } from "../../stages/model/keras-h5.js";
import { ModelFolderError } from "../../stages/model/model-folder.js";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { findModel, type FoundModel } from "../model-lookup.js";

const usage = `usage: mu-pipe export <run | model folder> --format tfjs|keras|web --out <path> [options]

  <run | model folder>   a mu-pipe model folder (with mu-model.json), or a run: latest,
                         latest~1, a run folder name or unique prefix, an experiment name
                         (its newest run), or a path to a run folder; latest and an
                         experiment name mean the newest run with a trained model
  --format tfjs|keras|web
                         tfjs: a TF.js LayersModel folder (model.json, weights.bin,
                         mu-model.json, README.txt) for the browser or React Native;
                         keras: one HDF5 file that keras.models.load_model reads;
                         web: a static site (index.html, TF.js, the model) that finds
                         the sclera in photos and camera frames, from disk or any host
  --out <path>           a folder for tfjs and web, a file ending in .h5 for keras
  --model best|last      which model of a run (default best: the threshold stage's model
                         when the run has one, else the last finetune stage's best model;
                         last: the last finetune stage's final-epoch model)
  --runs-dir <dir>       where runs live (default: runs)
  --force                replace --out if it exists (an earlier export only)`;

const options = {
  format: { type: "string" },
  out: { type: "string" },
  model: { type: "string" },
  "runs-dir": { type: "string", default: "runs" },
  force: { type: "boolean", default: false },
} as const;

const FORMAT_NAMES = { tfjs: "a TF.js LayersModel", keras: "a Keras HDF5 file", web: "a web app" } as const;

function usageError(message: string): MuPipeError {
  return new MuPipeError({ reason: "usage", message, hint: usage });
}

export const exportCommand: Command = {
  name: "export",
  summary: "export a trained model as a TF.js folder, a Keras .h5 file or a web app",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const [query, ...extra] = positionals;
    if (query === undefined) throw usageError("missing the run or model folder to export");
    if (extra.length > 0) throw usageError(`export takes one run or model folder, got also ${extra.join(" ")}`);
    const format = EXPORT_FORMATS.find((f) => f === values.format);
    if (format === undefined) {
      throw usageError(values.format === undefined ? "missing --format (tfjs, keras or web)" : `--format must be ${EXPORT_FORMATS.join(" or ")}, not ${values.format}`);
    }
    if (values.out === undefined) throw usageError(`missing --out (${format === "keras" ? "a .h5 file" : "a folder"} to write)`);
    const choice = values.model === undefined ? undefined : MODEL_CHOICES.find((c) => c === values.model);
    if (values.model !== undefined && choice === undefined) throw usageError(`--model must be ${MODEL_CHOICES.join(" or ")}, not ${values.model}`);

    const source = await findExportedModel(query, choice, values["runs-dir"], io);
    const out = path.resolve(io.cwd, values.out);
    const result = await withExportErrors(() => exportModel({ modelDir: source.dir, format, out, force: values.force }));
    const shown = displayPath(io.cwd, out);
    io.out(`exported ${source.description} as ${FORMAT_NAMES[format]}: ${shown}`);
    if (format === "web") {
      io.out(`  open ${path.join(shown, "index.html")} in a browser, or put the folder on any static host (README.txt says more)`);
    } else if (format === "tfjs") {
      io.out(`  files: ${result.files.join(", ")} (README.txt says how to feed it)`);
    } else {
      for (const line of kerasNotes(shown, result.metadata)) io.out(`  ${line}`);
    }
    return 0;
  },
};

/** `file` relative to `cwd` when it lies below it, else absolute. */
function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** The model folder `query` names: the folder itself, or the chosen model of a run. */
async function findExportedModel(query: string, choice: ModelChoice | undefined, runsDir: string, io: CommandIO): Promise<FoundModel> {
  const found = await findModel(query, choice ?? "best", runsDir, io.cwd, {
    otherwise: "train one with `mu-pipe run`, or export a model folder",
    onNote: (note) => io.err(`note: ${note}`),
  });
  if (found.isFolder && choice !== undefined) throw usageError(`--model picks a model of a run; ${query} is a model folder already`);
  return found;
}

/** Export and model-folder problems are the user's to fix: usage failures naming the path. */
async function withExportErrors<T>(body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ExportError || error instanceof ModelFolderError) throw new MuPipeError({ reason: "usage", message: error.message });
    if (error instanceof KerasWeightsFileError) throw new MuPipeError({ reason: "io", path: error.file, message: error.problem });
    throw error;
  }
}
