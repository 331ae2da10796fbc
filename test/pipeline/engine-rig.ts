/**
 * A temp project for engine tests: toy stage types in a plugin module, experiment
 * files written inline, and ways to run the CLI in-process or as a child process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/main.js";
import type { CommandIO } from "../../cli/command.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const cliBin = path.join(repoRoot, "bin/mu-pipe.js");

/** Toy stage types (emit, concat) shared with the engine benchmark. */
export const toyPlugin = path.join(repoRoot, "test/toy-stages.mjs");

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export class EngineRig {
  private constructor(readonly dir: string) {}

  static async create(): Promise<EngineRig> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "mu-pipe-engine-"));
    return new EngineRig(dir);
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, CI: "true", MU_PIPE_PLUGINS: toyPlugin, TOY_CALLS: path.join(this.dir, "calls.txt") };
  }

  async write(relative: string, text: string): Promise<string> {
    const file = path.join(this.dir, relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
    return file;
  }

  /** Stage ids that ran since the last call, in order. */
  async takeCalls(): Promise<string[]> {
    const file = path.join(this.dir, "calls.txt");
    const text = await fs.readFile(file, "utf8").catch(() => "");
    await fs.rm(file, { force: true });
    return text.split("\n").filter(Boolean);
  }

  /** Runs the CLI in this process (fast), with the rig's folder as the current directory. */
  async cli(...argv: string[]): Promise<CliResult> {
    let out = "";
    let err = "";
    const io: CommandIO = {
      cwd: this.dir,
      env: this.env,
      interactive: false,
      out: (text) => void (out += text.endsWith("\n") ? text : `${text}\n`),
      err: (text) => void (err += text.endsWith("\n") ? text : `${text}\n`),
    };
    const saved = { calls: process.env.TOY_CALLS };
    process.env.TOY_CALLS = this.env.TOY_CALLS;
    try {
      const code = await main(argv, io);
      return { code, out, err };
    } finally {
      process.env.TOY_CALLS = saved.calls;
    }
  }

  /** Runs the compiled CLI as a child process (for signals, locks and start-up). */
  spawn(...argv: string[]): ChildProcess & { output: () => string } {
    const child = spawn(process.execPath, [cliBin, ...argv], { cwd: this.dir, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    return Object.assign(child, { output: () => output });
  }

  async runChild(...argv: string[]): Promise<CliResult> {
    const child = this.spawn(...argv);
    const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
    return { code, out: child.output(), err: "" };
  }

  async readJson<T>(relative: string): Promise<T> {
    return JSON.parse(await fs.readFile(path.join(this.dir, relative), "utf8")) as T;
  }

  async cleanup(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** Waits until `check` is true, polling. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A 3-stage experiment: a and b feed c; listed out of order on purpose. */
export const DIAMOND = `experiment: toy
stages:
  c:
    uses: concat
    inputs: { a: a.out, b: b }
    params: { suffix: "!" }
  a:
    uses: emit
    params: { value: hello }
  b:
    uses: emit
    params: { value: " world" }
`;
