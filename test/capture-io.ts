import type { CommandIO } from "../cli/command.js";

export type CapturedIO = CommandIO & { stdout: () => string; stderr: () => string };

/** A CommandIO that keeps what a command prints, line-terminated as the real one writes it. */
export function captureIO(cwd: string, options: { interactive?: boolean; env?: NodeJS.ProcessEnv } = {}): CapturedIO {
  let out = "";
  let err = "";
  const line = (text: string): string => (text.endsWith("\n") ? text : `${text}\n`);
  return {
    cwd,
    env: options.env ?? {},
    interactive: options.interactive ?? false,
    out: (text) => void (out += line(text)),
    err: (text) => void (err += line(text)),
    stdout: () => out,
    stderr: () => err,
  };
}
