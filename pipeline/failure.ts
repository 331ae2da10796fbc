/**
 * Every way a command can fail, as data. Library code throws `MuPipeError`; only the
 * CLI prints a failure (cli/print-failure.ts, one switch) and maps it to an exit code.
 */

/** A position in a source text, 1-based, as editors show it. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export interface SourceSpan {
  /** A file path, or a pseudo-source such as `--set` for command-line overrides. */
  readonly file: string;
  readonly start: SourcePosition;
  readonly end: SourcePosition;
  /** The full text of the file (or override), to underline the span. */
  readonly text: string;
}

/** One problem in an experiment file, pointing at the spot. */
export interface Diagnostic {
  /** Where; null when the problem has no single place (e.g. a file that cannot be read). */
  readonly span: SourceSpan | null;
  /** Fallback location when there is no span (the file path). */
  readonly file: string;
  /** Key path, e.g. `stages.finetune2.params.lr`; empty for the document itself. */
  readonly keyPath: string;
  readonly message: string;
  /** Extra lines, e.g. "did you mean `params`?" or the stages in a cycle. */
  readonly hints?: readonly string[];
}

export type Failure =
  | { readonly reason: "usage"; readonly message: string; readonly hint?: string }
  | { readonly reason: "config-invalid"; readonly diagnostics: readonly Diagnostic[] }
  | { readonly reason: "stage-failed"; readonly stageId: string; readonly message: string; readonly logFile?: string }
  | { readonly reason: "interrupted"; readonly stageId?: string }
  | { readonly reason: "not-found"; readonly what: string; readonly query: string; readonly candidates?: readonly string[] }
  | { readonly reason: "store-corrupt"; readonly problems: readonly string[] }
  | { readonly reason: "io"; readonly path: string; readonly message: string }
  /** A run stopped before `before` started: the finished stages' results show stages still to run would fail. */
  | { readonly reason: "preflight-failed"; readonly before: string; readonly diagnostics: readonly Diagnostic[] };

export class MuPipeError extends Error {
  constructor(readonly failure: Failure) {
    super(summarise(failure));
    this.name = "MuPipeError";
  }
}

/** Exit codes: 2 usage/config, 1 a stage or the store failed, 130 interrupted (as shells do for SIGINT). */
export function exitCodeOf(failure: Failure): number {
  switch (failure.reason) {
    case "usage":
    case "config-invalid":
    case "not-found":
    case "preflight-failed":
      return 2;
    case "stage-failed":
    case "store-corrupt":
    case "io":
      return 1;
    case "interrupted":
      return 130;
    default:
      return unreachable(failure);
  }
}

function summarise(failure: Failure): string {
  switch (failure.reason) {
    case "usage":
      return failure.message;
    case "config-invalid":
      return failure.diagnostics.map((d) => `${d.file}: ${d.keyPath}: ${d.message}`).join("\n");
    case "stage-failed":
      return `stage ${failure.stageId} failed: ${failure.message}`;
    case "interrupted":
      return failure.stageId ? `interrupted during stage ${failure.stageId}` : "interrupted";
    case "not-found":
      return `${failure.what} not found: ${failure.query}`;
    case "store-corrupt":
      return failure.problems.join("\n");
    case "io":
      return `${failure.path}: ${failure.message}`;
    case "preflight-failed":
      return failure.diagnostics.map((d) => `${d.file}: ${d.keyPath}: ${d.message}`).join("\n");
    default:
      return unreachable(failure);
  }
}

export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}

/** A program's output (stderr, a log's end) set off under a message, each line as `  | line`. */
export function indentOutput(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => `  | ${line}`)
    .join("\n");
}
