/**
 * An export that checks itself before it says done: write the file (and a README on how to
 * feed it), then run it and the TF.js model on the run's test split (self-check.ts). Shared
 * by `mu-pipe export --format tflite` and the `export` stage.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import { WEIGHTS_BIN, loadModelFolder } from "../../model/model-folder.js";
import { ExportError } from "../export-error.js";
import type { Quantization } from "../tflite/convert-tflite.js";
import type { PythonOptions } from "../tflite/python-scripts.js";
import { checkFileOf, type ExportCheckFile } from "./check-file.js";
import { EXPORT_RUNNERS, type CheckedFormat, type WrittenFacts } from "./runners.js";
import { selfCheck } from "./self-check.js";
import { readSplitImages } from "./split-images.js";

export const DEFAULT_CALIBRATION_IMAGES = 100;

export interface CheckedExportOptions extends PythonOptions {
  readonly modelDir: string;
  /** The run's tensors (a resize stage's output): test split for the check, train split for calibration. */
  readonly tensorsDir: string;
  readonly format: CheckedFormat;
  readonly quantize: Quantization;
  readonly out: string;
  readonly tolerance: number;
  /** int8: how many training images to calibrate on (spread evenly over the split, flips included). */
  readonly calibrationImages?: number;
  readonly force?: boolean;
  /** Told what is happening, for long steps. */
  readonly onStep?: (message: string) => void;
}

export interface CheckedExport {
  readonly out: string;
  /** `<out>.README.txt`, or null for a format that writes none. */
  readonly readme: string | null;
  readonly checkFile: string;
  readonly check: ExportCheckFile;
  readonly facts: WrittenFacts;
}

export function readmeOf(exported: string): string {
  return `${exported}.README.txt`;
}

export async function checkedExport(options: CheckedExportOptions): Promise<CheckedExport> {
  const runner = EXPORT_RUNNERS[options.format];
  const out = path.resolve(options.out);
  checkOutput(out, runner.extension, options);
  const step = options.onStep ?? (() => {});
  const test = await readSplitImages(options.tensorsDir, "test");
  if (test.count === 0) {
    throw new ExportError({ kind: "no-test-data", detail: `${options.tensorsDir}: the test split has no images, so the export cannot check itself; give the run a test split (load: split: test)` });
  }
  let calibration;
  if (options.quantize === "int8") {
    const train = await readSplitImages(options.tensorsDir, "train", { includeAugmented: true, limit: options.calibrationImages ?? DEFAULT_CALIBRATION_IMAGES });
    if (train.count === 0) throw new ExportError({ kind: "no-test-data", detail: `${options.tensorsDir}: the train split has no images to calibrate int8 quantisation on` });
    calibration = { pixels: train.pixels, count: train.count };
    step(`calibrating int8 on ${train.count} training images`);
  }
  await mkdir(path.dirname(out), { recursive: true });
  await rm(checkFileOf(out), { force: true });
  step(`writing ${path.basename(out)}`);
  const facts = await runner.write({ modelDir: options.modelDir, out, quantize: options.quantize, calibration }, options);
  const { model, metadata } = await loadModelFolder(options.modelDir);
  const readme = runner.readme === undefined ? null : readmeOf(out);
  if (readme !== null) await writeFile(readme, runner.readme(metadata, path.basename(out), options.quantize, facts));
  step(`checking it on ${test.count} test images`);
  const tfjsWeightsBytes = (await stat(path.join(options.modelDir, WEIGHTS_BIN))).size;
  const predictor = runner.predictor(out, metadata, options);
  try {
    const check = await selfCheck({ file: out, format: options.format, quantize: options.quantize, model, metadata, predictor, test, tolerance: options.tolerance, tfjsWeightsBytes });
    return { out, readme, checkFile: checkFileOf(out), check, facts };
  } finally {
    model.dispose();
    await predictor.dispose();
  }
}

/** The file must end in the format's extension and, without `force`, not exist; never a folder. */
function checkOutput(out: string, extension: string, options: CheckedExportOptions): void {
  if (!out.toLowerCase().endsWith(extension)) throw new ExportError({ kind: "bad-output", path: out, detail: `a ${options.format} export is one file whose name ends in ${extension}` });
  if (!existsSync(out)) return;
  if (statSync(out).isDirectory()) throw new ExportError({ kind: "bad-output", path: out, detail: `is a folder; a ${options.format} export is one ${extension} file` });
  if (options.force !== true) throw new ExportError({ kind: "output-exists", path: out, detail: "pass --force to replace it" });
}
