/**
 * Why an export cannot be made, as data. `exportProblemMessage` is the one place that turns
 * a problem into text; the CLI wraps it into a usage failure.
 */
import { unreachable } from "../../pipeline/failure.js";

export type ExportProblem =
  /** The run has no stage whose output holds the model asked for. */
  | { readonly kind: "no-model-in-run"; readonly runDir: string; readonly detail: string }
  /** The output path is taken and `--force` was not given (or cannot safely be replaced). */
  | { readonly kind: "output-exists"; readonly path: string; readonly detail: string }
  /** The output path cannot be used for this format. */
  | { readonly kind: "bad-output"; readonly path: string; readonly detail: string }
  /** A layer (or layer option) with no Keras counterpart this exporter knows. */
  | { readonly kind: "unsupported-layer"; readonly layer: string; readonly className: string; readonly detail: string };

export class ExportError extends Error {
  constructor(readonly problem: ExportProblem) {
    super(exportProblemMessage(problem));
    this.name = "ExportError";
  }
}

export function exportProblemMessage(problem: ExportProblem): string {
  switch (problem.kind) {
    case "no-model-in-run":
      return `${problem.runDir}: ${problem.detail}`;
    case "output-exists":
      return `${problem.path} already exists; ${problem.detail}`;
    case "bad-output":
      return `${problem.path}: ${problem.detail}`;
    case "unsupported-layer":
      return `cannot write a Keras model: layer ${problem.layer} (${problem.className}) ${problem.detail}`;
    default:
      return unreachable(problem);
  }
}
