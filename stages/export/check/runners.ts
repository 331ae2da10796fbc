/**
 * The exported formats that check themselves, one entry each: how to write the file and
 * how to run it (a PixelPredictor: 0..255 pixel values in, probability maps out).
 *
 * Adding a format is one entry. A runtime that takes scaled float32 input (onnxruntime's
 * `createOnnxPredictor`) goes through `floatInputPredictor`, e.g.
 *   onnx: {
 *     extension: ".onnx",
 *     quantizations: ["none"],
 *     write: async ({ modelDir, out }) => { await writeOnnxModel(modelDir, out); return {}; },
 *     predictor: (file, metadata) => floatInputPredictor(createOnnxPredictor(file), metadata.inputScaling),
 *   },
 */
import type { InputScaling } from "../../model/input-scaling.js";
import type { ModelMetadata } from "../../model/model-folder.js";
import { writeTfliteModel, type CalibrationImages, type Quantization, type TfliteTensor } from "../tflite/convert-tflite.js";
import type { PythonOptions } from "../tflite/python-scripts.js";
import { tfliteReadme } from "../tflite/tflite-readme.js";
import { onnxReadme } from "../onnx/onnx-readme.js";
import { createTflitePredictor, type PixelPredictor } from "../tflite/tflite-predictor.js";

export type { PixelPredictor, PixelPredictions } from "../tflite/tflite-predictor.js";

export interface WriteRequest {
  readonly modelDir: string;
  readonly out: string;
  readonly quantize: Quantization;
  /** Training images, for formats that calibrate (tflite int8). */
  readonly calibration?: CalibrationImages;
}

/** What the written file takes and gives, when the format can say. */
export interface WrittenFacts {
  readonly input?: TfliteTensor;
  readonly output?: TfliteTensor;
}

export interface ExportRunner {
  /** The file name ending `--out` should have. */
  readonly extension: string;
  /** The quantisations the format offers; the first is the default. */
  readonly quantizations: readonly Quantization[];
  write(request: WriteRequest, options: PythonOptions): Promise<WrittenFacts>;
  predictor(file: string, metadata: ModelMetadata, options: PythonOptions): PixelPredictor;
  /** The text of `<file>.README.txt`: what to feed the file and how to read its output. */
  readme?(metadata: ModelMetadata, fileName: string, quantize: Quantization, facts: WrittenFacts): string;
}

export const EXPORT_RUNNERS = {
  tflite: {
    extension: ".tflite",
    quantizations: ["none", "float16", "int8"],
    write: (request, options) => writeTfliteModel({ ...request, ...options }),
    predictor: (file, metadata, options) => createTflitePredictor(file, metadata.inputScaling, options),
    readme: tfliteReadme,
  },
  onnx: {
    extension: ".onnx",
    quantizations: ["none"],
    write: async ({ modelDir, out }) => {
      const { writeOnnxModel } = await import("../onnx/write-onnx-model.js");
      await writeOnnxModel(modelDir, out);
      return {};
    },
    // onnxruntime-node loads only when an ONNX file is run; one intra-op thread, as the latency is reported per thread.
    predictor: (file, metadata) => floatInputPredictor(lazyFloatPredictor(async () => (await import("../onnx/onnx-predictor.js")).createOnnxPredictor(file, { intraOpNumThreads: 1 })), metadata.inputScaling),
    readme: (metadata, fileName) => onnxReadme(metadata, fileName),
  },
} as const satisfies Record<string, ExportRunner>;

export type CheckedFormat = keyof typeof EXPORT_RUNNERS;
export const CHECKED_FORMATS = Object.keys(EXPORT_RUNNERS) as CheckedFormat[];

/** A predictor over scaled float32 NHWC input, as ONNX and TF.js models take it. */
export interface FloatPredictor {
  predict(batch: Float32Array, n: number, h: number, w: number): Promise<Float32Array>;
  dispose(): Promise<void> | void;
}

/** A FloatPredictor made on first use (a runtime session is created asynchronously). */
export function lazyFloatPredictor(create: () => Promise<FloatPredictor>): FloatPredictor {
  let made: Promise<FloatPredictor> | null = null;
  const get = (): Promise<FloatPredictor> => (made ??= create());
  return {
    predict: async (batch, n, h, w) => (await get()).predict(batch, n, h, w),
    dispose: async () => {
      if (made) await (await made).dispose();
    },
  };
}

/** Scales pixel values the way mu-pipe scales them for TF.js, then runs `inner`. */
export function floatInputPredictor(inner: FloatPredictor, scaling: InputScaling): PixelPredictor {
  const [scale, offset] = scaling === "imagenet" ? [1 / 127.5, -1] : [1 / 255, 0];
  return {
    async predict(pixels, count, size) {
      const x = new Float32Array(pixels.length);
      for (let i = 0; i < pixels.length; i++) x[i] = (pixels[i] as number) * scale + offset;
      // One image per call, as a phone runs it, so the median is a batch-1 latency; the
      // first call (which may create the runtime's session) is a warm-up, not timed.
      const pixelsPerImage = size * size;
      const probabilities = new Float32Array(count * pixelsPerImage);
      const times: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        const one = await inner.predict(x.subarray(i * pixelsPerImage * 3, (i + 1) * pixelsPerImage * 3), 1, size, size);
        if (i > 0 || count === 1) times.push(performance.now() - started);
        probabilities.set(one, i * pixelsPerImage);
      }
      return { probabilities, medianMs: median(times) };
    },
    dispose: () => inner.dispose(),
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return Math.round(value * 100) / 100;
}
