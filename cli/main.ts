/**
 * The `mu-pipe` command. Subcommands are imported only when used, so `status` and
 * `dag` start fast and never load sharp or TensorFlow. This module and
 * cli/print-failure.ts are where failures become text and exit codes.
 */
import type { Command, CommandIO } from "./command.js";
import { MuPipeError, exitCodeOf } from "../pipeline/failure.js";
import { printFailure } from "./print-failure.js";

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: { summary: "run an experiment's stages, reusing cached results", load: async () => (await import("./commands/run.js")).runCommand },
  status: { summary: "show which stages would be reused or run, and why", load: async () => (await import("./commands/status.js")).statusCommand },
  dag: { summary: "print the stage graph (text or mermaid)", load: async () => (await import("./commands/dag.js")).dagCommand },
  runs: { summary: "list runs with status and headline metrics", load: async () => (await import("./commands/runs.js")).runsCommand },
  show: { summary: "show one run: stages, reasons, metrics", load: async () => (await import("./commands/show.js")).showCommand },
  compare: { summary: "compare runs: differing params, metric deltas", load: async () => (await import("./commands/compare.js")).compareCommand },
  sweep: { summary: "a sweep's results: one row per setup, mean ± std over folds", load: async () => (await import("./commands/sweep.js")).sweepCommand },
  report: { summary: "write a run's report.html (curves, metrics, overlays, stage times)", load: async () => (await import("./commands/report.js")).reportCommand },
  gc: { summary: "remove store entries no run references", load: async () => (await import("./commands/gc.js")).gcCommand },
  verify: { summary: "check every stored artifact against its manifest", load: async () => (await import("./commands/verify.js")).verifyCommand },
  schema: { summary: "write the experiment JSON Schema (for editors)", load: async () => (await import("./commands/schema.js")).schemaCommand },
  score: { summary: "score an SSBC submission folder against ground truth (SSBC 2020 protocol)", load: async () => (await import("./commands/score.js")).scoreCommand },
  setup: { summary: "build an optional fast backend (native TensorFlow from a pip wheel)", load: async () => (await import("./commands/setup.js")).setupCommand },
  doctor: { summary: "show which compute backends work here and how to get a faster one", load: async () => (await import("./commands/doctor.js")).doctorCommand },
  predict: { summary: "predict sclera masks for images with a trained model", load: async () => (await import("./commands/predict.js")).predictCommand },
  export: { summary: "export a trained model as a TF.js folder or a Keras .h5 file", load: async () => (await import("./commands/export.js")).exportCommand },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: mu-pipe <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Run `mu-pipe <command> --help` for a command's options.",
    "Exit codes: 0 ok, 1 a stage failed, 2 usage or config error, 130 interrupted.",
  ].join("\n");
}

/** Read at run time: the compiled file sits one folder deeper (dist/cli) than the source (cli). */
async function packageVersion(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  for (const relative of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(await readFile(new URL(relative, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mu-pipe" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "unknown";
}

/**
 * Output piped into a reader that stops early (`mu-pipe runs | head`) closes the pipe:
 * that is the reader being done, not an error, so exit quietly as other tools do.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? 0);
  });
}

export function processIO(): CommandIO {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  return {
    cwd: process.cwd(),
    env: process.env,
    interactive: Boolean(process.stdout.isTTY) && !process.env.CI,
    out: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  };
}

export async function main(argv: readonly string[], io: CommandIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.out(await packageVersion());
    return 0;
  }
  const entry = commands[name];
  try {
    if (!entry) {
      throw new MuPipeError({ reason: "not-found", what: "command", query: name, candidates: Object.keys(commands) });
    }
    const command = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(command.usage);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof MuPipeError) {
      printFailure(error.failure, io);
      return exitCodeOf(error.failure);
    }
    io.err(`mu-pipe: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}
