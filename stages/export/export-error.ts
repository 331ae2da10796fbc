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
  | { readonly kind: "unsupported-layer"; readonly layer: string; readonly className: string; readonly detail: string }
  /** Python (MU_PIPE_PYTHON, default python3) is missing or cannot import TensorFlow. */
  | { readonly kind: "needs-python-tensorflow"; readonly python: string; readonly detail: string }
  /** A Python script of the export failed for another reason. */
  | { readonly kind: "python-failed"; readonly script: string; readonly python: string; readonly detail: string }
  /** The self-check needs test images, and there are none. */
  | { readonly kind: "no-test-data"; readonly detail: string };

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
    case "needs-python-tensorflow":
      return `converting to TFLite needs Python TensorFlow (${problem.detail}): run \`mu-pipe setup tensorflow\`, or point MU_PIPE_PYTHON at a Python that has it`;
    case "python-failed":
      return `${problem.python} ${problem.script} failed:\n${problem.detail}`;
    case "no-test-data":
      return problem.detail;
    default:
      return unreachable(problem);
  }
}
