/**
 * The Python side of the TFLite export: convert.py and run.py, files beside this module,
 * run with MU_PIPE_PYTHON (default python3) through a CommandRunner. A request goes to a
 * script as a JSON file, the answer comes back as the last JSON line of its stdout; bulk
 * data (images, probabilities) travels as raw files in a temporary folder.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { processRunner, type CommandRunner } from "../../runtime/command-runner.js";
import { ExportError } from "../export-error.js";

/** The environment variable naming the Python that has TensorFlow (default python3). */
export const PYTHON_ENV = "MU_PIPE_PYTHON";
export const DEFAULT_PYTHON = "python3";
/** The exit code of a script whose `import tensorflow` failed. */
export const NO_TENSORFLOW_EXIT = 3;

export type PythonScript = "convert.py" | "run.py";

export interface PythonOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly runner?: CommandRunner;
}

export function pythonExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[PYTHON_ENV];
  return chosen === undefined || chosen === "" ? DEFAULT_PYTHON : chosen;
}

/**
 * The script's path: beside this module when run from the sources; from dist/ the
 * sources' copy (package.json `files` ships stages/export/tflite/*.py).
 */
export function scriptPath(script: PythonScript): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, script), path.resolve(here, "../../../../stages/export/tflite", script)];
  const found = candidates.find((file) => existsSync(file));
  if (found === undefined) throw new Error(`mu-pipe is missing its ${script} (looked in ${candidates.join(", ")})`);
  return found;
}

/**
 * Runs `script` on `request` (written as JSON into `workDir`) and returns the last line of
 * its stdout parsed as JSON. Throws ExportError `needs-python-tensorflow` when Python or its
 * TensorFlow is missing, `python-failed` with the end of stderr otherwise.
 */
export async function runPythonScript(script: PythonScript, request: object, workDir: string, options: PythonOptions = {}): Promise<unknown> {
  const env = options.env ?? process.env;
  const python = pythonExecutable(env);
  const requestFile = path.join(workDir, `${path.basename(script, ".py")}-request.json`);
  await writeFile(requestFile, JSON.stringify(request));
  const result = await (options.runner ?? processRunner).run(python, [scriptPath(script), requestFile], {
    env: { ...env, TF_CPP_MIN_LOG_LEVEL: "3", CUDA_VISIBLE_DEVICES: "" },
  });
  if (!result.found) throw new ExportError({ kind: "needs-python-tensorflow", python, detail: `${python} was not found` });
  if (result.exitCode === NO_TENSORFLOW_EXIT && result.stderr.includes("no-tensorflow")) {
    throw new ExportError({ kind: "needs-python-tensorflow", python, detail: `${python} cannot import tensorflow` });
  }
  if (result.exitCode !== 0) {
    throw new ExportError({ kind: "python-failed", script, python, detail: lastLines(result.stderr, 8) || `exit code ${String(result.exitCode)}` });
  }
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last) as unknown;
  } catch {
    throw new ExportError({ kind: "python-failed", script, python, detail: `expected a JSON line on stdout, got ${JSON.stringify(last.slice(0, 200))}` });
  }
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join("\n");
}
