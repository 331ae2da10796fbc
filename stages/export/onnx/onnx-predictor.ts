/**
 * Runs an ONNX model written by `writeOnnxModel` with onnxruntime-node on the CPU:
 * NHWC float32 batches in (already scaled as the model's input_scaling says), NHWC
 * sigmoid probabilities out.
 */
import * as ort from "onnxruntime-node";

import { OnnxError } from "./onnx-error.js";

export interface OnnxPredictorOptions {
  /** Threads of one operator (onnxruntime's intra-op pool); default: onnxruntime's choice (the cores). 1 for a single-thread benchmark. */
  readonly intraOpNumThreads?: number;
  /** Graph optimisation level; default "all" (onnxruntime's default too). */
  readonly graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
}

export interface OnnxPredictor {
  readonly inputName: string;
  readonly outputName: string;
  /**
   * Probabilities for `n` images of h x w x 3 floats (NHWC, row-major): n x h x w x c values
   * (c = 1 for MU-Net), image i's from i * h * w * c.
   */
  predict(batch: Float32Array, n: number, h: number, w: number): Promise<Float32Array>;
  /** Frees the session; the predictor cannot be used after. */
  dispose(): Promise<void>;
}

const CHANNELS = 3;

export async function createOnnxPredictor(file: string, options: OnnxPredictorOptions = {}): Promise<OnnxPredictor> {
  const threads = options.intraOpNumThreads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new RangeError(`intraOpNumThreads must be a positive integer, got ${String(threads)}`);
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    // One image batch runs one operator at a time: a single inter-op thread, the parallelism inside operators.
    interOpNumThreads: 1,
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
  });
  const [inputName, outputName] = [session.inputNames[0], session.outputNames[0]];
  if (inputName === undefined || outputName === undefined || session.inputNames.length !== 1) {
    await session.release();
    throw new OnnxError({ kind: "unsupported-model", detail: `${file} has inputs [${session.inputNames.join(", ")}] and outputs [${session.outputNames.join(", ")}]; the predictor runs a model of one input and one output` });
  }
  let released = false;
  return {
    inputName,
    outputName,
    async predict(batch, n, h, w) {
      if (released) throw new OnnxError({ kind: "bad-batch", detail: "the predictor was disposed" });
      const expected = n * h * w * CHANNELS;
      if (![n, h, w].every((d) => Number.isInteger(d) && d > 0) || batch.length !== expected) {
        throw new OnnxError({ kind: "bad-batch", detail: `a batch of ${n} images of ${h}x${w}x${CHANNELS} needs ${expected} float32 values, got ${batch.length}` });
      }
      const input = new ort.Tensor("float32", batch, [n, h, w, CHANNELS]);
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run({ [inputName]: input });
      } catch (error) {
        throw new OnnxError({ kind: "bad-batch", detail: `onnxruntime refused a [${n}, ${h}, ${w}, ${CHANNELS}] batch: ${error instanceof Error ? error.message : String(error)}` });
      } finally {
        input.dispose();
      }
      const output = results[outputName] as ort.Tensor;
      try {
        return (output.data as Float32Array).slice();
      } finally {
        output.dispose();
      }
    },
    async dispose() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}
