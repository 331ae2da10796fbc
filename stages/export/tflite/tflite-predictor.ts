/**
 * Runs a .tflite file with Python's TFLite interpreter (run.py) on 0..255 pixel values:
 * a float model gets them scaled as mu-pipe scales them for TF.js, a uint8 model gets the
 * bytes themselves. One Python process per call, so callers pass a whole split at once.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import type { InputScaling } from "../../model/input-scaling.js";
import { runPythonScript, type PythonOptions } from "./python-scripts.js";

export interface PixelPredictions {
  /** count x size x size probabilities, image i's map from i * size * size. */
  readonly probabilities: Float32Array;
  /** Median milliseconds per image (one image per invoke, one thread), when measured. */
  readonly medianMs: number | null;
}

/** Predicts probability maps from NHWC uint8 pixel values; what a self-check runs an exported file with. */
export interface PixelPredictor {
  predict(pixels: Uint8Array, count: number, size: number): Promise<PixelPredictions>;
  dispose(): Promise<void> | void;
}

export function createTflitePredictor(file: string, scaling: InputScaling, options: PythonOptions = {}): PixelPredictor {
  return {
    async predict(pixels, count, size) {
      const work = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-tflite-run-"));
      try {
        const images = path.join(work, "images.u8");
        const out = path.join(work, "probabilities.f32");
        await writeFile(images, pixels);
        const answer = (await runPythonScript("run.py", { model: path.resolve(file), images, count, size, scaling, out }, work, options)) as { median_ms: number };
        const bytes = await readFile(out);
        const probabilities = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        if (probabilities.length !== count * size * size) throw new Error(`run.py wrote ${probabilities.length} probabilities, expected ${count * size * size}`);
        return { probabilities, medianMs: answer.median_ms };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
    dispose() {},
  };
}
