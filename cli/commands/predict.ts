/**
 * `mu-pipe predict --model <run or model folder> <image or folder>... --out <folder>`:
 * a trained model on any images, outside an experiment (what the seed's missing
 * `predict_test_IMG.py` was meant to do). Writes Predictions/ and Binarised/ (and
 * overlays/) in the SSBC layout, with the model's swept threshold.
 */
import path from "node:path";

import { MuPipeError } from "../../pipeline/failure.js";
import { InputFileError } from "../../stages/data/input-problems.js";
import { TTA_MODES, type Tta } from "../../stages/model/tta.js";
import { FALLBACK_THRESHOLD, predictParamsSchema } from "../../stages/predict/predict-params.js";
import { AUTO_BACKEND, BACKEND_REQUESTS, type BackendRequest } from "../../stages/runtime/backend-names.js";
import { parseCommandArgs, requirePositionals } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { findModel, type FoundModel } from "../model-lookup.js";

/** The predict stage's params: the same kernels and defaults. */
const KERNELS = predictParamsSchema.properties.kernel.enum;
const DEFAULTS = { batch_size: predictParamsSchema.properties.batch_size.default, kernel: predictParamsSchema.properties.kernel.default };

const usage = `usage: mu-pipe predict --model <run | model folder> <image or folder>... --out <folder> [options]

  --model <m>            a run (latest, a run folder name or prefix, an experiment name,
                         or a path to a run folder: its threshold stage's \`model\`, else its
                         last finetune stage's \`best\`), or a model folder (with mu-model.json);
                         latest and an experiment name mean the newest run with a trained model
  <image or folder>...   image files, or folders whose images (.jpg .png .bmp .tif .webp) are read
  --out <folder>         where Predictions/, Binarised/, predictions.json (and overlays/) go
  --threshold <t>        binarisation threshold in [0, 1] (default: the model's, else 0.5)
  --tta <mode>           test-time augmentation: ${TTA_MODES.join(", ")} (default: what the model's
                         threshold was chosen with; flip averages each image with its mirror)
  --overlays             also write overlays/<name>.jpg (prediction tinted over the photo)
  --batch-size <n>       images per inference batch (default: ${DEFAULTS.batch_size})
  --kernel <k>           resize kernel: ${KERNELS.join(", ")} (default ${DEFAULTS.kernel}; use the resize stage's)
  --backend <b>          ${BACKEND_REQUESTS.join(", ")} (default ${AUTO_BACKEND})
  --runs-dir <dir>       where runs live (default: runs)`;

const options = {
  model: { type: "string" },
  out: { type: "string" },
  threshold: { type: "string" },
  tta: { type: "string" },
  overlays: { type: "boolean", default: false },
  "batch-size": { type: "string", default: String(DEFAULTS.batch_size) },
  kernel: { type: "string", default: DEFAULTS.kernel },
  backend: { type: "string", default: AUTO_BACKEND },
  "runs-dir": { type: "string", default: "runs" },
} as const;

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
    const tta = values.tta === undefined ? undefined : oneOf(values.tta, TTA_MODES, "--tta");
    const backendName = oneOf(values.backend, BACKEND_REQUESTS, "--backend");
    const outDir = path.resolve(io.cwd, values.out);

    const choice = await findModel(values.model, "best", values["runs-dir"], io.cwd, {
      otherwise: "train one with `mu-pipe run`, or pass --model <model folder>",
      onNote: (note) => io.err(`note: ${note}`),
    });
    return predictImages({ choice, inputs, outDir, threshold, tta, batchSize, kernel, backendName, overlays: values.overlays }, io);
  },
};

interface PredictRequest {
  readonly choice: FoundModel;
  readonly inputs: readonly string[];
  readonly outDir: string;
  readonly threshold: number | undefined;
  readonly tta: Tta | undefined;
  readonly batchSize: number;
  readonly kernel: (typeof KERNELS)[number];
  readonly backendName: BackendRequest;
  readonly overlays: boolean;
}

async function predictImages(request: PredictRequest, io: CommandIO): Promise<number> {
  // Heavy modules (TensorFlow, sharp) load only now.
  const { findImages, NoImagesError } = await import("../../stages/predict/image-input.js");
  const { ModelFolderError } = await import("../../stages/model/model-folder.js");
  const { RuntimeError } = await import("../../stages/runtime/failures.js");
  const { imageFiles } = await import("../../stages/predict/predict-images.js");
  const { predictSubmission } = await import("../../stages/predict/predict-submission.js");

  let files: string[];
  try {
    files = await findImages(request.inputs, io.cwd);
  } catch (error) {
    if (error instanceof NoImagesError) throw new MuPipeError({ reason: "usage", message: error.message });
    if (error instanceof InputFileError) throw new MuPipeError({ reason: "not-found", what: "image or folder", query: error.files[0] ?? "" });
    throw error;
  }
  const images = imageFiles(files, io.cwd);

  const started = performance.now();
  let result: Awaited<ReturnType<typeof predictSubmission>>;
  try {
    result = await predictSubmission({
      modelDir: request.choice.dir,
      tensors: null,
      images,
      kernel: request.kernel,
      batchSize: request.batchSize,
      submissionDir: request.outDir,
      overlaysDir: request.overlays ? path.join(request.outDir, "overlays") : null,
      threshold: { given: request.threshold },
      tta: request.tta,
      backend: request.backendName,
      log: (message) => io.err(message),
      onReady: ({ backend, threshold, thresholdSource, tta }) => {
        if (thresholdSource === "fallback") {
          io.err(`note: ${request.choice.dir} has no swept threshold (no threshold stage ran); using ${FALLBACK_THRESHOLD}. Pass --threshold to choose one.`);
        }
        const from = thresholdSource === "given" ? " (--threshold)" : thresholdSource === "model" ? " (the model's)" : "";
        if (tta.given && tta.recorded !== null && tta.recorded !== tta.tta) {
          io.err(`warning: --tta ${tta.tta} differs from the TTA the model's threshold was chosen with (${tta.recorded})`);
        }
        const augmented = tta.tta === "flip" ? "; flip TTA" : "";
        io.err(`model: ${request.choice.description}; threshold ${threshold}${from}${augmented}; backend ${backend.name}`);
      },
      onProgress: progressLines(io),
    });
  } catch (error) {
    if (error instanceof RuntimeError) throw new MuPipeError({ reason: "usage", message: `--backend ${request.backendName}: ${error.message}` });
    if (error instanceof ModelFolderError) throw modelFolderFailure(error.dir, error.problem);
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  const { written, problems } = result;
  if (problems.length > 0) {
    const [first, ...rest] = problems;
    const others = rest.map((p) => `\n  ${p.message}`).join("");
    const wroteOthers = written > 0 ? `\n  the other ${written} image(s) were written to ${request.outDir}` : "";
    throw new MuPipeError({ reason: "io", path: first?.files[0] ?? request.outDir, message: `${first?.problem ?? "unreadable"}${others}${wroteOthers}` });
  }
  io.out(`wrote ${written} prediction${written === 1 ? "" : "s"} to ${request.outDir} in ${seconds.toFixed(1)} s (Predictions/, Binarised/${request.overlays ? ", overlays/" : ""})`);
  return 0;
}

/** A line at most every 10% of the images (and at the end), on stderr. */
function progressLines(io: CommandIO): (done: number, total: number) => void {
  let shown = 0;
  return (done, total) => {
    const every = Math.max(1, Math.ceil(total / 10));
    if (done - shown >= every || done === total) {
      shown = done;
      io.err(`predict: ${done}/${total} images`);
    }
  };
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
