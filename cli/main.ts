/**
 * The `mu-pipe` command. Subcommands are imported only when used, so `status` and
 * `dag` start fast and never load sharp or TensorFlow. This module and
 * cli/print-failure.ts are where failures become text and exit codes.
 */
import type { CommandIO } from "./command.js";
import { MuPipeError, exitCodeOf } from "../pipeline/failure.js";
import { printFailure } from "./print-failure.js";
import { verbHelp, verbs, type Verb } from "./verbs.js";

export function usage(): string {
  const listed = Object.entries(verbs).filter(([, verb]) => verb.hidden !== true);
  const width = Math.max(...listed.map(([name]) => name.length));
  const lines = listed.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: mu-pipe <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "Run `mu-pipe help <command>` (or `mu-pipe <command> --help`) for a command's options and examples.",
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
  if (name === undefined || ((name === "help" || name === "--help" || name === "-h") && rest.length === 0)) {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    io.out(await packageVersion());
    return 0;
  }
  try {
    if (name === "help") {
      const { verb, args } = findVerb(rest);
      if (args.length > 0) throw new MuPipeError({ reason: "usage", message: `help takes one command, got also ${args.join(" ")}` });
      io.out(verbHelp(verb, await verb.load()));
      return 0;
    }
    const { verb, args } = findVerb(argv);
    const command = await verb.load();
    if (args.includes("--help") || args.includes("-h")) {
      io.out(verbHelp(verb, command));
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof MuPipeError) {
      printFailure(error.failure, io);
      return exitCodeOf(error.failure);
    }
    io.err(`mu-pipe: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

/** The verb `words` name (`runs`, or `runs rm`) and the arguments after it. */
function findVerb(words: readonly string[]): { verb: Verb; args: readonly string[] } {
  const [name = "", sub, ...rest] = words;
  const verb = Object.hasOwn(verbs, name) ? verbs[name] : undefined;
  if (!verb) throw new MuPipeError({ reason: "not-found", what: "command", query: name, candidates: Object.keys(verbs).filter((v) => verbs[v]?.hidden !== true) });
  const subverb = sub !== undefined && verb.subcommands && Object.hasOwn(verb.subcommands, sub) ? verb.subcommands[sub] : undefined;
  if (subverb) return { verb: subverb, args: rest };
  return { verb, args: words.slice(1) };
}
