/**
 * Runs the Slurm client commands (sbatch, squeue, sacct, scancel, sinfo). Behind an
 * interface so callers can be driven by a recorded transcript in unit tests; the real
 * one spawns the program with execFile (no shell: arguments are passed as they are).
 */
import { execFile } from "node:child_process";
import { SlurmError } from "./errors.js";

export interface SlurmCommandResult {
  /** False when the program is not on PATH (ENOENT). */
  readonly found: boolean;
  /** Null when the program was killed (e.g. by the timeout) or not found. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SlurmRunOptions {
  /** Kill the command after this long; a hung slurmctld must not hang the caller. */
  readonly timeoutMs?: number;
}

export interface SlurmRunner {
  run(command: string, args: readonly string[], options?: SlurmRunOptions): Promise<SlurmCommandResult>;
}

/** Slurm clients retry a busy slurmctld for MessageTimeout (10 s by default) themselves. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export const processSlurmRunner: SlurmRunner = {
  run(command, args, options = {}) {
    return new Promise((resolve) => {
      execFile(
        command,
        [...args],
        { encoding: "utf8", timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SLURM_TIME_FORMAT: "standard" } },
        (error, stdout, stderr) => {
          if (error === null) {
            resolve({ found: true, exitCode: 0, stdout, stderr });
            return;
          }
          const code = (error as NodeJS.ErrnoException).code;
          if (code === "ENOENT") {
            resolve({ found: false, exitCode: null, stdout, stderr: `${command}: not found on PATH` });
            return;
          }
          const timedOut = error.killed === true || error.signal !== null;
          resolve({
            found: true,
            exitCode: typeof code === "number" ? code : null,
            stdout,
            stderr: timedOut ? `${stderr}${stderr.endsWith("\n") || stderr === "" ? "" : "\n"}${command} killed (${error.signal ?? "timeout"}) after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : stderr,
          });
        },
      );
    });
  },
};

/**
 * Runs `command args` and returns its stdout; throws `SlurmError` (naming the command
 * line and its stderr) when the program is missing, fails or is killed.
 */
export async function runSlurmCommand(runner: SlurmRunner, command: string, args: readonly string[], options?: SlurmRunOptions): Promise<string> {
  const result = await runner.run(command, args, options);
  if (!result.found) throw new SlurmError({ reason: "not-installed", command });
  if (result.exitCode !== 0) throw new SlurmError({ reason: "command-failed", command, args, exitCode: result.exitCode, stderr: result.stderr });
  return result.stdout;
}
