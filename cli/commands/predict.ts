/**
 * `mu-pipe predict --model <run or model folder> <image or folder>... --out <folder>`:
 * a trained model on any images, outside an experiment (what the seed's missing
 * `predict_test_IMG.py` was meant to do). Writes Predictions/ and Binarised/ (and
 * overlays/) in the SSBC layout, with the model's swept threshold.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { InputFileError, InputProblems } from "../../stages/data/input-problems.js";
import { FALLBACK_THRESHOLD } from "../../stages/predict/predict.js";
import { parseCommandArgs, requirePositionals } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { findRun } from "../run-lookup.js";
import { trainedModelRequirement } from "../trained-model.js";

const usage = `usage: mu-pipe predict --model <run | model folder> <image or folder>... --out <folder> [options]

  --model <m>            a run (latest, a run folder name or prefix, an experiment name,
                         or a path to a run folder: its threshold stage's \`model\`, else its
                         last finetune stage's \`best\`), or a model folder (with mu-model.json);
                         latest and an experiment name mean the newest run with a trained model
  <image or folder>...   image files, or folders whose images (.jpg .png .bmp .tif .webp) are read
  --out <folder>         where Predictions/, Binarised/, predictions.json (and overlays/) go
  --threshold <t>        binarisation threshold in [0, 1] (default: the model's, else 0.5)
  --overlays             also write overlays/<name>.jpg (prediction tinted over the photo)
  --batch-size <n>       images per inference batch (default: 8)
  --kernel <k>           resize kernel: lanczos3 (default), mitchell or cubic (use the resize stage's)
  --backend <b>          auto (default), tensorflow-gpu, tensorflow, wasm or cpu
  --runs-dir <dir>       where runs live (default: runs)`;

const options = {
  model: { type: "string" },
  out: { type: "string" },
  threshold: { type: "string" },
  overlays: { type: "boolean", default: false },
  "batch-size": { type: "string", default: "8" },
  kernel: { type: "string", default: "lanczos3" },
  backend: { type: "string", default: "auto" },
  "runs-dir": { type: "string", default: "runs" },
} as const;

const KERNELS = ["lanczos3", "mitchell", "cubic"] as const;
const BACKENDS = ["auto", "tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;

/** Where a model came from, for the summary line. */
interface ModelChoice {
  readonly dir: string;
  readonly description: string;
}

export const predictCommand: Command = {
  name: "predict",
  summary: "predict sclera masks for images with a trained model",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const inputs = requirePositionals(positionals, 1, "images to predict (files or folders)", usage);
    if (values.model === undefined) throw usageError("--model is required (a run or a model folder)");
    if (values.out === undefined) throw usageError("--out is required (the folder to write Predictions/ and Binarised/ into)");
    const threshold = values.threshold === undefined ? undefined : parseThreshold(values.threshold);
    const batchSize = Number(values["batch-size"]);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw usageError(`--batch-size must be a positive integer, not ${values["batch-size"]}`);
    const kernel = oneOf(values.kernel, KERNELS, "--kernel");
    const backendName = oneOf(values.backend, BACKENDS, "--backend");
    const outDir = path.resolve(io.cwd, values.out);

    const choice = await resolveModel(values.model, path.resolve(io.cwd, values["runs-dir"]), io.cwd, (note) => io.err(`note: ${note}`));
    return predictImages({ choice, inputs, outDir, threshold, batchSize, kernel, backendName, overlays: values.overlays }, io);
  },
};

interface PredictRequest {
  readonly choice: ModelChoice;
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly threshold: number | undefined;
  readonly batchSize: number;
  readonly kernel: (typeof KERNELS)[number];
  readonly backendName: (typeof BACKENDS)[number];
  readonly overlays: boolean;
}

async function predictImages(request: PredictRequest, io: CommandIO): Promise<number> {
  // Heavy modules (TensorFlow, sharp) load only now.
  const { findImages, NoImagesError } = await import("../../stages/predict/image-input.js");
  const { ModelFolderError } = await import("../../stages/model/model-folder.js");
  const { loadInferenceModel } = await import("../../stages/predict/inference-model.js");
  const { initBackend } = await import("../../stages/runtime/backend.js");
  const { RuntimeError } = await import("../../stages/runtime/failures.js");
  const { imageFiles, predictFilesInto } = await import("../../stages/predict/predict-images.js");
  const { SubmissionWriter, assignNames } = await import("../../stages/predict/submission.js");
  const { chooseThreshold } = await import("../../stages/predict/threshold-file.js");

  let files: string[];
  try {
    files = await findImages(request.inputs, io.cwd);
  } catch (error) {
    if (error instanceof NoImagesError) throw new MuPipeError({ reason: "usage", message: error.message });
    if (error instanceof InputFileError) throw new MuPipeError({ reason: "not-found", what: "image or folder", query: error.files[0] ?? "" });
    throw error;
  }
  const images = imageFiles(files, io.cwd);

  let backend;
  try {
    backend = await initBackend(request.backendName, { purpose: "infer" });
  } catch (error) {
    if (error instanceof RuntimeError) throw new MuPipeError({ reason: "usage", message: `--backend ${request.backendName}: ${error.message}` });
    throw error;
  }
  let loaded: Awaited<ReturnType<typeof loadInferenceModel>>;
  try {
    loaded = await loadInferenceModel(request.choice.dir, (message) => io.err(message));
  } catch (error) {
    if (error instanceof ModelFolderError) throw modelFolderFailure(error.dir, error.problem);
    throw error;
  }
  const { model, metadata } = loaded;
  const problems = new ListedProblems();
  let written: number;
  const started = performance.now();
  try {
    const chosen = chooseThreshold({ given: request.threshold, model: metadata.threshold }, FALLBACK_THRESHOLD);
    if (chosen.source === "fallback") {
      io.err(`note: ${request.choice.dir} has no swept threshold (no threshold stage ran); using ${FALLBACK_THRESHOLD}. Pass --threshold to choose one.`);
    }
    io.err(`model: ${request.choice.description}; threshold ${chosen.threshold}${chosen.source === "given" ? " (--threshold)" : chosen.source === "model" ? " (the model's)" : ""}; backend ${backend.name}`);
    const names = assignNames(images.map((image) => ({ id: image.id, nameSource: image.file })));
    const nameById = new Map(images.map((image, i) => [image.id, names[i] as string]));
    const writer = await SubmissionWriter.create(request.outDir, {
      threshold: chosen.threshold,
      overlaysDir: request.overlays ? path.join(request.outDir, "overlays") : null,
    });
    const progress = progressLines(images.length, io);
    await predictFilesInto(writer, images, nameById, request.kernel, {
      model,
      inputSize: metadata.inputSize,
      scaling: metadata.inputScaling,
      batchSize: request.batchSize,
      problems,
      onImage: progress,
    });
    await writer.finish();
    written = writer.count;
  } finally {
    model.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  if (problems.files.length > 0) {
    const [first, ...rest] = problems.files;
    const others = rest.map((p) => `\n  ${p.message}`).join("");
    const wroteOthers = written > 0 ? `\n  the other ${written} image(s) were written to ${request.outDir}` : "";
    throw new MuPipeError({ reason: "io", path: first?.files[0] ?? request.outDir, message: `${first?.problem ?? "unreadable"}${others}${wroteOthers}` });
  }
  io.out(`wrote ${written} prediction${written === 1 ? "" : "s"} to ${request.outDir} in ${seconds.toFixed(1)} s (Predictions/, Binarised/${request.overlays ? ", overlays/" : ""})`);
  return 0;
}

/** InputProblems that also keeps each problem, to name the files in the failure. */
class ListedProblems extends InputProblems {
  readonly files: InputFileError[] = [];
  override add(problem: InputFileError): void {
    const before = this.count;
    super.add(problem);
    if (this.count > before) this.files.push(problem);
  }
}

/** A line at most every 10% of the images (and at the end), on stderr. */
function progressLines(total: number, io: CommandIO): () => void {
  let done = 0;
  let shown = 0;
  const every = Math.max(1, Math.ceil(total / 10));
  return () => {
    done++;
    if (done - shown >= every || done === total) {
      shown = done;
      io.err(`predict: ${done}/${total} images`);
    }
  };
}

/**
 * The model folder `query` means: a model folder (has mu-model.json), a run folder (has
 * run.json), or a run name `resolveRun` knows. In a run: its last threshold stage's
 * `model`, else its last finetune stage's `best`, as linked under `artifacts/<stage>`.
 */
export async function resolveModel(query: string, runsDir: string, cwd: string, onNote: (note: string) => void = () => undefined): Promise<ModelChoice> {
  const asPath = path.resolve(cwd, query);
  if (isDir(asPath)) {
    if (existsSync(path.join(asPath, "mu-model.json"))) return { dir: asPath, description: asPath };
    if (existsSync(path.join(asPath, "model.json"))) throw modelFolderFailure(asPath, "not a mu-pipe model folder: no mu-model.json");
    if (!existsSync(path.join(asPath, "run.json"))) {
      throw new MuPipeError({
        reason: "usage",
        message: `--model ${query}: ${asPath} is neither a run folder (run.json) nor a model folder (mu-model.json)`,
      });
    }
  }
  const resolved = await findRun(runsDir, query, cwd, trainedModelRequirement("train one with `mu-pipe run`, or pass --model <model folder>"));
  if (resolved.note) onNote(resolved.note);
  const { run } = resolved;
  const runDir = run.dir;
  const stages = [...(run.record?.stages ?? [])].reverse();
  const pick = (uses: string, output: string): ModelChoice | null => {
    for (const stage of stages) {
      const dir = path.join(runDir, "artifacts", stage.id, output);
      if (stage.uses === uses && existsSync(path.join(dir, "mu-model.json"))) {
        return { dir, description: `run ${run.id}, stage ${stage.id} (${uses}) ${output}` };
      }
    }
    return null;
  };
  const found = pick("threshold", "model") ?? pick("finetune", "best");
  if (found !== null) return found;
  const listed = run.record?.stages.map((s) => `${s.id} (${s.uses}, ${s.status})`).join(", ") ?? "run.json unreadable";
  throw new MuPipeError({
    reason: "usage",
    message: `run ${run.id} has no trained model: no threshold or finetune stage of it has a model folder (stages: ${listed})`,
  });
}

function modelFolderFailure(dir: string, problem: string): MuPipeError {
  return new MuPipeError({
    reason: "io",
    path: dir,
    message:
      `${problem}\n  --model needs a run, or a model folder written by mu-pipe (a finetune stage's \`best\` or a threshold stage's \`model\`); ` +
      `a TF.js model from another tool lacks mu-model.json (input size, pixel scaling, threshold)`,
  });
}

function isDir(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function parseThreshold(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !(value >= 0 && value <= 1)) throw usageError(`--threshold must be a number in [0, 1], not ${text}`);
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw usageError(`${option} must be one of ${allowed.join(", ")}, not ${value}`);
  return value as T;
}

function usageError(message: string): MuPipeError {
  return new MuPipeError({ reason: "usage", message, hint: usage });
}
