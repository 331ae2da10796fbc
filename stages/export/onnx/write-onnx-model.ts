/**
 * `writeOnnxModel`: a mu-pipe model folder as one `.onnx` file that onnxruntime (desktop,
 * mobile, web) runs. Batch normalisation is folded into the convolutions first (as
 * `mu-pipe predict` does); the weights are initializers in the file; mu-model.json goes
 * into metadata_props. The file is written under a temporary name and renamed into place.
 */
import { readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";

import { FoldBatchNormError, foldBatchNorm } from "../../model/fold-batch-norm.js";
import { loadModelFolder, type ModelMetadata } from "../../model/model-folder.js";
import { feedingLines } from "../feeding-notes.js";
import { checkConvertible, convertLayersModel, type ConvertedGraph } from "./convert-model.js";
import type { Dimension } from "./onnx-graph.js";
import { metadataProps } from "./onnx-metadata.js";
import { encodeModel, type ModelMessage } from "./onnx-proto.js";

/** The opset written unless asked otherwise: 13 is read by every onnxruntime since 1.7 (2021), mobile builds included. */
export const DEFAULT_OPSET = 13;
/**
 * Opsets the graph is valid in: the operators used (Conv, BatchNormalization, Clip, Relu,
 * Pad, Add, Sum, Concat, Resize, Sigmoid, Transpose) keep, from 13 to 21, the inputs and
 * attribute defaults the converter relies on.
 */
export const OPSETS = { min: 13, max: 21 } as const;

export interface WriteOnnxOptions {
  /** ONNX opset, OPSETS.min..OPSETS.max; default DEFAULT_OPSET. */
  readonly opset?: number;
  /** Fold batch normalisation into the convolutions (default true); false writes BatchNormalization nodes. */
  readonly foldBatchNorm?: boolean;
  /** Where the model came from (e.g. a run id), kept as metadata `source_run`. */
  readonly sourceRun?: string;
  /** Kept as producer_version and metadata `mu_pipe_version`; default: this package's version. */
  readonly muPipeVersion?: string;
}

export interface WriteOnnxResult {
  /** Absolute path of the file written. */
  readonly file: string;
  /** Its size in bytes. */
  readonly bytes: number;
  readonly inputName: string;
  readonly outputName: string;
  /** NHWC; the batch dimension is named (dynamic). */
  readonly inputShape: readonly Dimension[];
  readonly outputShape: readonly Dimension[];
  readonly opset: number;
  readonly irVersion: number;
  /** Whether batch normalisation was folded into the convolutions. */
  readonly foldedBatchNorm: boolean;
  readonly nodes: number;
  readonly initializers: number;
  /** The metadata_props written. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The model folder's mu-model.json. */
  readonly modelMetadata: ModelMetadata;
}

/** The ONNX IR version that goes with an opset (the oldest IR that defines it). */
export function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

/** Converts the model folder `modelDir` and writes it to `outFile`. */
export async function writeOnnxModel(modelDir: string, outFile: string, options: WriteOnnxOptions = {}): Promise<WriteOnnxResult> {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < OPSETS.min || opset > OPSETS.max) {
    throw new RangeError(`opset must be an integer from ${OPSETS.min} to ${OPSETS.max}, got ${String(opset)}`);
  }
  const { model, metadata } = await loadModelFolder(modelDir);
  let folded: tf.LayersModel | undefined;
  try {
    // Unsupported layers are reported by their names in the saved model, before any folding.
    checkConvertible(model);
    if (options.foldBatchNorm !== false) folded = tryFold(model);
    const converted = convertLayersModel(folded ?? model);
    const muPipeVersion = options.muPipeVersion ?? packageVersion();
    const props = metadataProps({ metadata, muPipeVersion, ...(options.sourceRun === undefined ? {} : { sourceRun: options.sourceRun }) });
    const message = modelMessage(converted, { opset, muPipeVersion, props, doc: feedingLines(metadata).join("\n") });
    const bytes = encodeModel(message);
    const file = path.resolve(outFile);
    await writeAtomically(file, bytes);
    return {
      file,
      bytes: bytes.byteLength,
      inputName: converted.inputName,
      outputName: converted.outputName,
      inputShape: converted.inputShape,
      outputShape: converted.outputShape,
      opset,
      irVersion: message.ir_version,
      foldedBatchNorm: folded !== undefined,
      nodes: converted.graph.nodeCount,
      initializers: converted.graph.initializerCount,
      metadata: Object.fromEntries(props.map(({ key, value }) => [key, value])),
      modelMetadata: metadata,
    };
  } finally {
    folded?.dispose();
    model.dispose();
  }
}

/** The folded model, or undefined if this model cannot be folded (then BatchNormalization nodes are written). */
function tryFold(model: tf.LayersModel): tf.LayersModel | undefined {
  try {
    return foldBatchNorm(model);
  } catch (error) {
    if (error instanceof FoldBatchNormError) return undefined;
    throw error;
  }
}

function modelMessage(converted: ConvertedGraph, options: { opset: number; muPipeVersion: string; props: { key: string; value: string }[]; doc: string }): ModelMessage {
  return {
    ir_version: irVersionFor(options.opset),
    opset_import: [{ domain: "", version: options.opset }],
    producer_name: "mu-pipe",
    producer_version: options.muPipeVersion,
    doc_string: options.doc,
    graph: converted.graph.toMessage(),
    metadata_props: options.props,
  };
}

/** mu-pipe's version from its package.json (the compiled file sits one folder deeper, under dist/). */
function packageVersion(): string {
  for (const relative of ["../../../package.json", "../../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mu-pipe" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "unknown";
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}-${Date.now()}.tmp`;
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
