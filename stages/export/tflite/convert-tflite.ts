/**
 * A mu-pipe model folder as a .tflite file: the model goes to Python as the Keras .h5 file
 * `writeKerasModelFile` writes, and convert.py turns it into TFLite, quantised as asked.
 * The .tflite file is written beside `out` and renamed into place, so a failed
 * conversion leaves nothing half-written.
 */
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { loadModelFolder, type ModelMetadata } from "../../model/model-folder.js";
import { quietTensorflow } from "../../runtime/backend.js";
import { writeKerasModelFile } from "../keras-model-file.js";
import { runPythonScript, type PythonOptions } from "./python-scripts.js";

export const QUANTIZATIONS = ["none", "float16", "int8"] as const;
/** none: float32 weights; float16: float16 weights, float32 input and output; int8: full-integer, uint8 input and output. */
export type Quantization = (typeof QUANTIZATIONS)[number];

/** Calibration images for int8: `count` x size x size x 3 pixel values (0..255), as the training split holds them. */
export interface CalibrationImages {
  readonly pixels: Uint8Array;
  readonly count: number;
}

export interface TfliteOptions extends PythonOptions {
  readonly modelDir: string;
  readonly out: string;
  readonly quantize: Quantization;
  /** Needed for int8. */
  readonly calibration?: CalibrationImages;
}

/** One input or output tensor of the .tflite file, as the interpreter describes it. */
export interface TfliteTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Quantisation: real value = (stored - zero_point) * scale; scale 0 means not quantised. */
  readonly scale: number;
  readonly zero_point: number;
}

export interface TfliteResult {
  readonly out: string;
  readonly metadata: ModelMetadata;
  readonly bytes: number;
  readonly tensorflow: string;
  readonly input: TfliteTensor;
  readonly output: TfliteTensor;
}

export async function writeTfliteModel(options: TfliteOptions): Promise<TfliteResult> {
  const out = path.resolve(options.out);
  if (options.quantize === "int8" && (options.calibration === undefined || options.calibration.count === 0)) {
    throw new Error("int8 quantisation needs calibration images (the run's training images)");
  }
  await mkdir(path.dirname(out), { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-tflite-"));
  const temporary = `${out}.${process.pid}-${Date.now()}.tmp`;
  try {
    quietTensorflow();
    const { model, metadata } = await loadModelFolder(options.modelDir);
    const h5 = path.join(work, "model.h5");
    try {
      await writeKerasModelFile(h5, model, metadata);
    } finally {
      model.dispose();
    }
    let calibration: string | null = null;
    if (options.quantize === "int8" && options.calibration !== undefined) {
      calibration = path.join(work, "calibration.u8");
      await writeFile(calibration, options.calibration.pixels);
    }
    const answer = (await runPythonScript(
      "convert.py",
      {
        h5,
        out: temporary,
        quantize: options.quantize,
        scaling: metadata.inputScaling,
        size: metadata.inputSize,
        calibration,
        count: options.calibration?.count ?? 0,
      },
      work,
      options,
    )) as { tensorflow: string; input: TfliteTensor; output: TfliteTensor };
    await rename(temporary, out);
    return { out, metadata, bytes: (await stat(out)).size, tensorflow: answer.tensorflow, input: answer.input, output: answer.output };
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(temporary, { force: true });
  }
}
