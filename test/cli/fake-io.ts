import type { CommandIO } from "../../cli/command.js";

/** A CommandIO that keeps what a command prints to stdout. */
export function fakeIO(cwd: string): CommandIO & { stdout: () => string } {
  let out = "";
  return {
    cwd,
    env: {},
    interactive: false,
    out: (text) => {
      out += text;
    },
    err: () => undefined,
    stdout: () => out,
  };
}
