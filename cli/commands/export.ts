/**
 * `mu-pipe export <run | model folder> --format tfjs|keras|web --out <path>`: a trained model for
 * use outside mu-pipe. cli/main.ts loads this module (and with it TensorFlow.js and h5wasm)
 * only when the command runs.
 */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { checkLines } from "../../stages/export/check/check-lines.js";
import { DEFAULT_CALIBRATION_IMAGES, checkedExport } from "../../stages/export/check/checked-export.js";
import { CHECKED_FORMATS, EXPORT_RUNNERS, type CheckedFormat } from "../../stages/export/check/runners.js";
import { DEFAULT_TOLERANCE } from "../../stages/export/check/self-check.js";
import type { Quantization } from "../../stages/export/tflite/convert-tflite.js";
import { AUTO_BACKEND } from "../../stages/runtime/backend-names.js";
import { initBackend } from "../../stages/runtime/backend.js";
import { ExportError } from "../../stages/export/export-error.js";
import { EXPORT_FORMATS, exportModel } from "../../stages/export/export-model.js";
import { kerasNotes } from "../../stages/export/feeding-notes.js";
import { MODEL_CHOICES, type ModelChoice } from "../../stages/export/model-in-run.js";
import { KerasWeightsFileError } from "../../stages/model/keras-h5.js";
import { ModelFolderError } from "../../stages/model/model-folder.js";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { findModel, type FoundModel } from "../model-lookup.js";

const usage = `usage: mu-pipe export <run | model folder> --format tfjs|keras|web|tflite --out <path> [options]

  <run | model folder>   a mu-pipe model folder (with mu-model.json), or a run: latest,
                         latest~1, a run folder name or unique prefix, an experiment name
                         (its newest run), or a path to a run folder; latest and an
                         experiment name mean the newest run with a trained model
  --format tfjs|keras|web|tflite
                         tfjs: a TF.js LayersModel folder (model.json, weights.bin,
                         mu-model.json, README.txt) for the browser or React Native;
                         keras: one HDF5 file that keras.models.load_model reads;
                         web: a static site (index.html, TF.js, the model) that finds
                         the sclera in photos and camera frames, from disk or any host;
                         tflite: a TensorFlow Lite file for phones (needs Python TensorFlow:
                         \`mu-pipe setup tensorflow\`; MU_PIPE_PYTHON names the python, default
                         python3), with <out>.README.txt and <out>.check.json beside it
  --out <path>           a folder for tfjs and web, a file ending in .h5 for keras, .tflite for tflite
  --quantize none|float16|int8
                         tflite only (default none): float16 halves the file; int8 is
                         full-integer, calibrated on the run's training images, with uint8
                         input (camera bytes as they are) and uint8 output
  --calibration-images N int8: how many training images to calibrate on (default ${DEFAULT_CALIBRATION_IMAGES})
  --tolerance F          tflite: the self-check fails (exit 1, file kept) when F1 on the
                         run's test split drops by more than F (default ${DEFAULT_TOLERANCE})
  --tensors <dir>        tflite from a model folder: tensors (a resize stage's output) whose
                         test split the self-check uses (a run's own are found)
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
  quantize: { type: "string" },
  "calibration-images": { type: "string" },
  tolerance: { type: "string" },
  tensors: { type: "string" },
} as const;

const FORMAT_NAMES = { tfjs: "a TF.js LayersModel", keras: "a Keras HDF5 file", web: "a web app" } as const;

function usageError(message: string): MuPipeError {
  return new MuPipeError({ reason: "usage", message, hint: usage });
}

export const exportCommand: Command = {
  name: "export",
  summary: "export a trained model: TF.js, Keras .h5, a web app, or a checked TFLite file",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const [query, ...extra] = positionals;
    if (query === undefined) throw usageError("missing the run or model folder to export");
    if (extra.length > 0) throw usageError(`export takes one run or model folder, got also ${extra.join(" ")}`);
    const formats = [...EXPORT_FORMATS, ...CHECKED_FORMATS];
    const format = formats.find((f) => f === values.format);
    if (format === undefined) {
      throw usageError(values.format === undefined ? `missing --format (${orList(formats)})` : `--format must be ${orList(formats)}, not ${values.format}`);
    }
    if (values.out === undefined) throw usageError(`missing --out (${isChecked(format) ? `a ${EXPORT_RUNNERS[format].extension} file` : format === "keras" ? "a .h5 file" : "a folder"} to write)`);
    if (isChecked(format)) {
      const checked = checkedOptions(format, values);
      const choice = values.model === undefined ? undefined : MODEL_CHOICES.find((c) => c === values.model);
      if (values.model !== undefined && choice === undefined) throw usageError(`--model must be ${MODEL_CHOICES.join(" or ")}, not ${values.model}`);
      const source = await findExportedModel(query, choice, values["runs-dir"], io);
      const tensorsDir = values.tensors === undefined ? source.tensorsDir : path.resolve(io.cwd, values.tensors);
      if (tensorsDir === null) {
        throw usageError(
          source.isFolder
            ? `a ${format} export checks itself on test images: pass --tensors <dir> (a resize stage's output) with a model folder`
            : `${source.description}: the run has no finished resize stage, so no test images to check the export on; pass --tensors <dir>`,
        );
      }
      return exportChecked({ ...checked, source, tensorsDir, out: path.resolve(io.cwd, values.out), force: values.force }, io);
    }
    for (const flag of ["quantize", "calibration-images", "tolerance", "tensors"] as const) {
      if (values[flag] !== undefined) throw usageError(`--${flag} is for --format ${CHECKED_FORMATS.join(" or ")}, not ${format}`);
    }
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

interface CheckedRequest {
  readonly format: CheckedFormat;
  readonly quantize: Quantization;
  readonly tolerance: number;
  readonly calibrationImages: number;
}

/** The tflite flags, checked. */
function checkedOptions(format: CheckedFormat, values: { quantize?: string; tolerance?: string; "calibration-images"?: string }): CheckedRequest {
  const offered: readonly Quantization[] = EXPORT_RUNNERS[format].quantizations;
  const quantize = values.quantize === undefined ? offered[0] : offered.find((q) => q === values.quantize);
  if (quantize === undefined) throw usageError(`--quantize must be ${orList(offered)} for ${format}, not ${String(values.quantize)}`);
  const tolerance = values.tolerance === undefined ? DEFAULT_TOLERANCE : Number(values.tolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 1) throw usageError(`--tolerance must be an F1 difference from 0 to 1, not ${String(values.tolerance)}`);
  const calibrationImages = values["calibration-images"] === undefined ? DEFAULT_CALIBRATION_IMAGES : Number(values["calibration-images"]);
  if (!Number.isInteger(calibrationImages) || calibrationImages < 1) {
    throw usageError(`--calibration-images must be a positive whole number, not ${String(values["calibration-images"])}`);
  }
  if (values["calibration-images"] !== undefined && quantize !== "int8") throw usageError("--calibration-images is for --quantize int8");
  return { format, quantize, tolerance, calibrationImages };
}

/** Writes, checks and reports a tflite export: exit 0 when the check passed, 1 when F1 dropped too far. */
async function exportChecked(request: CheckedRequest & { source: FoundModel; tensorsDir: string; out: string; force: boolean }, io: CommandIO): Promise<number> {
  const backend = await initBackend(AUTO_BACKEND, { purpose: "infer" });
  const result = await withExportErrors(() =>
    checkedExport({
      modelDir: request.source.dir,
      tensorsDir: request.tensorsDir,
      format: request.format,
      quantize: request.quantize,
      out: request.out,
      tolerance: request.tolerance,
      calibrationImages: request.calibrationImages,
      force: request.force,
      env: io.env,
      onStep: (message) => io.err(`${message}...`),
    }),
  );
  const shown = displayPath(io.cwd, result.out);
  io.out(`exported ${request.source.description} as ${request.format} (quantize ${request.quantize}): ${shown}`);
  for (const line of checkLines(result.check, request.format, backend.name)) io.out(`  ${line}`);
  const readme = result.readme === null ? "" : `how to feed it: ${displayPath(io.cwd, result.readme)}; `;
  io.out(`  ${readme}the check: ${displayPath(io.cwd, result.checkFile)}`);
  if (result.check.passed) return 0;
  io.err(`export check failed: ${result.check.note ?? ""}`);
  return 1;
}

/** "a, b or c". */
function isChecked(format: string): format is CheckedFormat {
  return (CHECKED_FORMATS as readonly string[]).includes(format);
}

function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1) ?? ""}`;
}

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
    if (error instanceof ExportError && error.problem.kind === "python-failed") throw new MuPipeError({ reason: "io", path: error.problem.script, message: error.message });
    if (error instanceof ExportError || error instanceof ModelFolderError) throw new MuPipeError({ reason: "usage", message: error.message });
    if (error instanceof KerasWeightsFileError) throw new MuPipeError({ reason: "io", path: error.file, message: error.problem });
    throw error;
  }
}
