/**
 * Runs external programs (python, pip, npm, node-gyp) for `mu-pipe setup`. Behind an
 * interface so the setup steps can be tested with fakes instead of real multi-minute builds.
 */
import { spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Also append stdout and stderr to this file (long steps: pip, npm, node-gyp). */
  readonly logFile?: string;
  readonly timeoutMs?: number;
}

export interface RunResult {
  /** False when the program itself was not found (ENOENT). */
  readonly found: boolean;
  /** Null when killed by a signal or not found. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** Keeps the last `limit` characters: enough for an error tail, bounded for pip's chatter. */
function tailBuffer(limit: number): { add(chunk: string): void; text(): string } {
  let text = "";
  return {
    add(chunk) {
      text += chunk;
      if (text.length > 2 * limit) text = text.slice(-limit);
    },
    text: () => (text.length > limit ? text.slice(-limit) : text),
  };
}

export const processRunner: CommandRunner = {
  run(command, args, options = {}) {
    return new Promise((resolve) => {
      const stdout = tailBuffer(256 * 1024);
      const stderr = tailBuffer(256 * 1024);
      let log: WriteStream | null = null;
      if (options.logFile) {
        log = createWriteStream(options.logFile, { flags: "a" });
        log.write(`$ ${[command, ...args].join(" ")}\n`);
      }
      const child = spawn(command, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
      let timer: NodeJS.Timeout | null = null;
      if (options.timeoutMs) timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs);
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout.add(chunk);
        log?.write(chunk);
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr.add(chunk);
        log?.write(chunk);
      });
      let done = false;
      const finish = (result: RunResult): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        if (log) log.end(() => resolve(result));
        else resolve(result);
      };
      child.on("error", (error: NodeJS.ErrnoException) => {
        finish({ found: error.code !== "ENOENT", exitCode: null, stdout: stdout.text(), stderr: `${stderr.text()}${error.message}` });
      });
      child.on("close", (code) => finish({ found: true, exitCode: code, stdout: stdout.text(), stderr: stderr.text() }));
    });
  },
};
