/**
 * Every way talking to Slurm can fail, as data, and the one function that turns a failure
 * into text: the command that was run (so it can be pasted into a shell) and what Slurm
 * said on stderr. Library code throws `SlurmError`; the executor decides how to report it.
 */
import { indentOutput, unreachable } from "../failure.js";

export type SlurmFailure =
  /** The program is not on PATH: Slurm's client tools are not installed here. */
  | { readonly reason: "not-installed"; readonly command: string }
  /** The program ran and failed (or was killed: `exitCode` null). */
  | { readonly reason: "command-failed"; readonly command: string; readonly args: readonly string[]; readonly exitCode: number | null; readonly stderr: string }
  /** The program succeeded but printed something this code does not understand. */
  | { readonly reason: "unexpected-output"; readonly command: string; readonly args: readonly string[]; readonly output: string; readonly expected: string }
  /** A job option that would not survive into the batch script or the command line. */
  | { readonly reason: "invalid-option"; readonly option: string; readonly value: string; readonly expected: string };

export class SlurmError extends Error {
  constructor(readonly failure: SlurmFailure) {
    super(formatSlurmFailure(failure));
    this.name = "SlurmError";
  }
}

/** A command line as a person would type it: arguments with spaces or quotes single-quoted. */
export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shellQuote(a))).join(" ");
}

/** `value` as one word for bash, whatever it holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function formatSlurmFailure(failure: SlurmFailure): string {
  switch (failure.reason) {
    case "not-installed":
      return `${failure.command} is not on PATH: Slurm's client commands are not installed here (for a local test cluster: scripts/slurm/up.sh)`;
    case "command-failed": {
      const how = failure.exitCode === null ? "was killed" : `exited with ${failure.exitCode}`;
      const said = failure.stderr.trim() ? indentOutput(failure.stderr) : "  (nothing on stderr)";
      return `${commandLine(failure.command, failure.args)} ${how}:\n${said}`;
    }
    case "unexpected-output":
      return `${commandLine(failure.command, failure.args)} printed output that is not ${failure.expected}:\n${indentOutput(failure.output || "(nothing)")}`;
    case "invalid-option":
      return `job option ${failure.option}: expected ${failure.expected}, got ${JSON.stringify(failure.value)}`;
    default:
      return unreachable(failure);
  }
}
