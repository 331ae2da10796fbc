/** The one switch that turns a Failure into text. */
import { closestMatch } from "../pipeline/config/did-you-mean.js";
import { formatDiagnostic } from "../pipeline/config/format-diagnostic.js";
import { unreachable, type Failure } from "../pipeline/failure.js";
import type { CommandIO } from "./command.js";

export function formatFailure(failure: Failure): string {
  switch (failure.reason) {
    case "usage":
      return [`mu-pipe: ${failure.message}`, ...(failure.hint ? ["", failure.hint] : [])].join("\n");
    case "config-invalid": {
      const count = failure.diagnostics.length;
      return [...failure.diagnostics.map((d) => `${formatDiagnostic(d)}\n`), `${count} problem${count === 1 ? "" : "s"} in the experiment; nothing was run.`].join("\n");
    }
    case "stage-failed":
      return `mu-pipe: stage ${failure.stageId} failed: ${failure.message}${failure.logFile ? `\n  log: ${failure.logFile}` : ""}`;
    case "interrupted":
      return `mu-pipe: interrupted${failure.stageId ? ` during stage ${failure.stageId}` : ""}; finished stages are cached, the next run resumes from there.`;
    case "not-found": {
      const guess = closestMatch(failure.query, failure.candidates ?? []);
      return [
        `mu-pipe: no ${failure.what} \`${failure.query}\``,
        ...(guess ? [`  did you mean \`${guess}\`?`] : []),
        ...(failure.candidates && failure.candidates.length > 0 ? [`  known: ${failure.candidates.join(", ")}`] : []),
      ].join("\n");
    }
    case "store-corrupt":
      return [`mu-pipe: the artifact store has problems:`, ...failure.problems.map((p) => `  ${p}`)].join("\n");
    case "io":
      return `mu-pipe: ${failure.path}: ${failure.message}`;
    case "preflight-failed": {
      const count = failure.diagnostics.length;
      const problems = `${count} problem${count === 1 ? "" : "s"}`;
      return [
        ...failure.diagnostics.map((d) => `${formatDiagnostic(d)}\n`),
        `${problems} found before stage ${failure.before} started; it and the stages after it did not run. Finished stages are cached: fix and rerun.`,
      ].join("\n");
    }
    default:
      return unreachable(failure);
  }
}

export function printFailure(failure: Failure, io: CommandIO): void {
  io.err(formatFailure(failure));
}
