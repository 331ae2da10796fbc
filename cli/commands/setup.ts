import path from "node:path";
import { MuPipeError } from "../../pipeline/failure.js";
import { processRunner, type CommandRunner } from "../../stages/runtime/command-runner.js";
import { RuntimeError } from "../../stages/runtime/failures.js";
import { setupTensorflow } from "../../stages/runtime/native-build.js";
import { cacheRoot, saveToCache } from "../../stages/runtime/native-cache.js";
import { installRoot, nativeStatus, tfjsVersion } from "../../stages/runtime/native-package.js";
import { parseCommandArgs, requirePositionals } from "../args.js";
import type { Command, CommandIO } from "../command.js";

const usage = `usage: mu-pipe setup tensorflow [--gpu] [--python PY]

Builds the native TensorFlow backend: @tensorflow/tfjs-node (or -gpu with --gpu), its
N-API binding compiled against the C library of a TensorFlow pip wheel. Uses the
TensorFlow that PY (default python3) has, installing tensorflow-cpu (tensorflow with
--gpu) with pip when it is missing. Needs g++ and make. Safe to rerun: finished steps
are skipped. Full logs go to node_modules/.cache/mu-pipe/. The built binding is also
kept in $MU_PIPE_CACHE (default $XDG_CACHE_HOME/mu-pipe or ~/.cache/mu-pipe), from
where runs restore it after npm ci removes it.`;

const options = {
  gpu: { type: "boolean", default: false },
  python: { type: "string" },
} as const;

/** The runner is a parameter so tests can drive every step with fakes. */
export async function runSetup(argv: readonly string[], io: CommandIO, runner: CommandRunner, root: string = installRoot()): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, options, usage);
  const [what] = requirePositionals(positionals, 1, "what to set up (tensorflow)", usage);
  if (what !== "tensorflow") throw new MuPipeError({ reason: "not-found", what: "setup target", query: what ?? "", candidates: ["tensorflow"] });
  const started = Date.now();
  try {
    const result = await setupTensorflow(
      { gpu: values.gpu, python: values.python },
      {
        runner,
        env: io.env,
        root,
        tfjsVersion: tfjsVersion(),
        logDir: path.join(root, "node_modules", ".cache", "mu-pipe"),
        nodePath: process.execPath,
        report: (step, message) => io.out(`${step.padEnd(10)} ${message}`),
      },
    );
    const cached = saveToCache(nativeStatus(result.backend, root), cacheRoot(io.env));
    if (cached) io.out(`${"cache".padEnd(10)} binding kept in ${cached}: restored from there in milliseconds after npm ci`);
    const seconds = Math.round((Date.now() - started) / 1000);
    io.out(`done in ${seconds} s: the ${result.backend} backend runs TensorFlow ${result.tensorflowVersion}; runtime.backend: auto now picks it (mu-pipe doctor shows all backends)`);
    return 0;
  } catch (error) {
    if (!(error instanceof RuntimeError)) throw error;
    io.err(`mu-pipe setup: ${error.message}`);
    return 1;
  }
}

export const setupCommand: Command = {
  name: "setup",
  summary: "build an optional fast backend (native TensorFlow)",
  usage,
  run: (argv, io) => runSetup(argv, io, processRunner),
};
