/**
 * A submission or ground-truth folder that cannot be scored. `path` is the folder or
 * file at fault and `problem` says why (several lines when several files are at
 * fault). The `score` command shows it as an I/O failure; the `evaluate` stage fails
 * with its message.
 */
import { LISTED_PROBLEMS } from "../data/input-problems.js";

export class SubmissionError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = "SubmissionError";
  }
}

/** "a.png, b.png" — at most LISTED_PROBLEMS names (sorted), then "and N more". */
export function listNames(names: readonly string[]): string {
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const shown = sorted.slice(0, LISTED_PROBLEMS).join(", ");
  const rest = sorted.length - LISTED_PROBLEMS;
  return rest > 0 ? `${shown} and ${rest} more` : shown;
}

/** "1 file", "2 files". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
