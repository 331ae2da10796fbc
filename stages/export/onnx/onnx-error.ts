/**
 * Why a model cannot be written as ONNX or run from an ONNX file, as data;
 * `onnxProblemMessage` is the one place that turns a problem into text.
 */
import { unreachable } from "../../../pipeline/failure.js";

export type OnnxProblem =
  /** A layer class the converter does not know, or a known class with an option it does not convert. */
  | { readonly kind: "unsupported-layer"; readonly layer: string; readonly className: string; readonly detail: string }
  /** The model's graph has a shape the converter does not handle (several inputs, an unknown size, ...). */
  | { readonly kind: "unsupported-model"; readonly detail: string }
  /** A batch handed to the predictor does not fit the model. */
  | { readonly kind: "bad-batch"; readonly detail: string };

export class OnnxError extends Error {
  constructor(readonly problem: OnnxProblem) {
    super(onnxProblemMessage(problem));
    this.name = "OnnxError";
  }
}

export function onnxProblemMessage(problem: OnnxProblem): string {
  switch (problem.kind) {
    case "unsupported-layer":
      return `cannot write an ONNX model: layer ${problem.layer} (${problem.className}) ${problem.detail}`;
    case "unsupported-model":
      return `cannot write an ONNX model: ${problem.detail}`;
    case "bad-batch":
      return `cannot predict with the ONNX model: ${problem.detail}`;
    default:
      return unreachable(problem);
  }
}

/** Throws the `unsupported-layer` error for `layer`. */
export function unsupportedLayer(layer: { readonly name: string; getClassName(): string }, detail: string): never {
  throw new OnnxError({ kind: "unsupported-layer", layer: layer.name, className: layer.getClassName(), detail });
}
