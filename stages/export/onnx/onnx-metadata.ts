/**
 * What an app needs to feed the ONNX model, as ONNX `metadata_props` (string key-value
 * pairs; onnxruntime's C/C++/Java/Swift APIs read them as the model's custom metadata map).
 * Flat keys for the values an app reads, plus the whole `mu-model.json` for tools.
 */
import type { ModelMetadata } from "../../model/model-folder.js";
import { scalingFormula } from "../feeding-notes.js";

/** The metadata keys, in the order they are written. */
export const METADATA_KEYS = {
  /** Binarisation threshold, e.g. "0.42"; "none" if no threshold stage chose one. */
  threshold: "threshold",
  /** "imagenet" or "unit": how 0..255 pixels are scaled (mu-pipe's names). */
  inputScaling: "input_scaling",
  /** The scaling as a formula, e.g. "x / 127.5 - 1 (pixel values 0..255 become -1..1)". */
  inputScalingFormula: "input_scaling_formula",
  /** Square input size in pixels, e.g. "224". */
  inputSize: "input_size",
  /** "NHWC float32 RGB": the input's layout. */
  inputLayout: "input_layout",
  /** What the output holds. */
  output: "output",
  /** The version of mu-pipe that wrote the file. */
  muPipeVersion: "mu_pipe_version",
  /** What made the model (mu-model.json's createdBy). */
  createdBy: "created_by",
  /** The run (or other source) the model came from, when the caller names one. */
  sourceRun: "source_run",
  /** The model folder's mu-model.json, as JSON. */
  muModel: "mu_model_json",
} as const;

export interface MetadataSources {
  readonly metadata: ModelMetadata;
  readonly muPipeVersion: string;
  readonly sourceRun?: string;
}

export function metadataProps({ metadata, muPipeVersion, sourceRun }: MetadataSources): { key: string; value: string }[] {
  const values: Record<keyof typeof METADATA_KEYS, string | undefined> = {
    threshold: metadata.threshold === null ? "none" : String(metadata.threshold),
    inputScaling: metadata.inputScaling,
    inputScalingFormula: scalingFormula(metadata.inputScaling).text,
    inputSize: String(metadata.inputSize),
    inputLayout: "NHWC float32 RGB",
    output: "NHWC float32 [batch, size, size, 1]: sclera probability per pixel (after sigmoid)",
    muPipeVersion,
    createdBy: metadata.createdBy,
    sourceRun,
    muModel: JSON.stringify(metadata),
  };
  return (Object.keys(METADATA_KEYS) as (keyof typeof METADATA_KEYS)[]).flatMap((key) => {
    const value = values[key];
    return value === undefined ? [] : [{ key: METADATA_KEYS[key], value }];
  });
}
