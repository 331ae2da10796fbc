/**
 * `mu-pipe setup tensorflow`: builds `@tensorflow/tfjs-node`'s (or `-gpu`'s) N-API binding
 * against the C library inside a TensorFlow pip wheel, instead of the libtensorflow 2.9.1
 * download its install script attempts (reference.md §6).
 *
 * Steps, each reported as it happens and each skipped when already done:
 *   python -> compiler -> tensorflow (pip install when missing) -> package (npm, scripts
 *   ignored) -> libraries (deps/ links into the wheel) -> build (node-gyp) -> check (an op in
 *   a child process) -> stamp.
 * Programs run through an injected CommandRunner, so every failure path is testable.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CommandRunner, RunResult } from "./command-runner.js";
import { RuntimeError, type RuntimeFailure } from "./failures.js";
import { BINDING_PATH, BUILD_STAMP, NATIVE_PACKAGES, nativeStatus, type BuildStamp, type NativeBackend } from "./native-package.js";

/** The oldest TensorFlow whose C API the tfjs-node 4.22 binding was written against. */
export const MINIMUM_TENSORFLOW = "2.9.0";

export interface SetupOptions {
  readonly gpu: boolean;
  /** Python to take TensorFlow from; `python3` on PATH by default. */
  readonly python?: string;
}

export interface SetupDeps {
  readonly runner: CommandRunner;
  readonly env: NodeJS.ProcessEnv;
  /** Folder whose node_modules holds @tensorflow/tfjs (see native-package.ts installRoot). */
  readonly root: string;
  /** The @tensorflow/tfjs version the native package must match. */
  readonly tfjsVersion: string;
  /** Where long steps write their full logs. */
  readonly logDir: string;
  /** The node running us (builds and checks use the same one). */
  readonly nodePath: string;
  readonly report: (step: string, message: string) => void;
}

export interface SetupResult {
  readonly backend: NativeBackend;
  readonly tensorflowVersion: string;
  /** `tf.getBackend()` in the checking process. */
  readonly activeBackend: string;
  readonly built: boolean;
}

const FIND_TENSORFLOW = `
import json, os, sys
try:
    import tensorflow as tf
except ImportError as e:
    print(json.dumps({"missing": str(e)}))
    sys.exit(0)
print(json.dumps({"version": tf.__version__, "dir": os.path.dirname(tf.__file__)}))
`;

const CHECK_BINDING = `
const [packageDir, tfjsDir] = process.argv.slice(1);
const native = require(packageDir);
const tf = require(tfjsDir);
const a = tf.tensor2d([[1, 2], [3, 4]]);
const result = Array.from(tf.matMul(a, a).dataSync());
const binding = tf.backend().binding || {};
process.stdout.write(JSON.stringify({ backend: tf.getBackend(), packageBackend: native.getBackend(), tensorflow: binding.TF_Version || null, gpu: typeof binding.isUsingGpuDevice === "function" ? binding.isUsingGpuDevice() : null, result }) + "\\n");
`;

const WHEEL_FILES = ["include/tensorflow/c/c_api.h", "include/tensorflow/c/eager/c_api.h", "libtensorflow_cc.so.2", "libtensorflow_framework.so.2"];

/** deps/lib name -> file in the wheel's tensorflow folder (the binding links -ltensorflow -ltensorflow_framework). */
const LIBRARY_LINKS: Readonly<Record<string, string>> = {
  "libtensorflow.so": "libtensorflow_cc.so.2",
  "libtensorflow.so.2": "libtensorflow_cc.so.2",
  // the SONAME the linker records in the binding
  "libtensorflow_cc.so.2": "libtensorflow_cc.so.2",
  "libtensorflow_framework.so": "libtensorflow_framework.so.2",
  "libtensorflow_framework.so.2": "libtensorflow_framework.so.2",
};

export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => v.split(/[.+-]/).slice(0, 3).map((part) => Number.parseInt(part, 10) || 0);
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function tail(result: RunResult, lines = 25): string {
  const text = `${result.stdout}\n${result.stderr}`.trim();
  return text.split("\n").slice(-lines).join("\n");
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/** Last line of stdout parsed as JSON (libraries may print banners before it). */
function lastJson<T>(result: RunResult): T | null {
  const line = result.stdout.trim().split("\n").at(-1);
  if (!line) return null;
  try {
    return JSON.parse(line) as T;
  } catch {
    return null;
  }
}

function fail(failure: RuntimeFailure): never {
  throw new RuntimeError(failure);
}

export async function setupTensorflow(options: SetupOptions, deps: SetupDeps): Promise<SetupResult> {
  const backend: NativeBackend = options.gpu ? "tensorflow-gpu" : "tensorflow";
  const wheelPackage = options.gpu ? "tensorflow" : "tensorflow-cpu";
  const { runner, report } = deps;
  await mkdir(deps.logDir, { recursive: true });

  // python
  const python = options.python ?? "python3";
  const pythonVersion = await runner.run(python, ["--version"], { env: deps.env });
  if (!pythonVersion.found) fail({ reason: "no-python", python, detail: python.includes("/") ? "no such file" : "not found on PATH" });
  if (pythonVersion.exitCode !== 0) fail({ reason: "no-python", python, detail: firstLine(pythonVersion.stderr) || `exit ${pythonVersion.exitCode}` });
  report("python", `${python} (${firstLine(pythonVersion.stdout || pythonVersion.stderr)})`);

  // compiler: checked before any long install, so a missing one fails in seconds
  const missing: string[] = [];
  const found: string[] = [];
  for (const tool of ["g++", "make"]) {
    const result = await runner.run(tool, ["--version"], { env: deps.env });
    if (!result.found || result.exitCode !== 0) missing.push(tool);
    else found.push(firstLine(result.stdout));
  }
  if (missing.length > 0) fail({ reason: "no-compiler", missing });
  report("compiler", found.join("; "));

  // tensorflow
  const tfEnv = { ...deps.env, TF_CPP_MIN_LOG_LEVEL: "3" };
  type Found = { version?: string; dir?: string; missing?: string };
  const findTensorflow = async (): Promise<Found> => {
    const result = await runner.run(python, ["-c", FIND_TENSORFLOW], { env: tfEnv });
    const parsed = lastJson<Found>(result);
    if (result.exitCode !== 0 || !parsed) {
      fail({ reason: "step-failed", step: "finding TensorFlow", command: `${python} -c "import tensorflow"`, exitCode: result.exitCode, logTail: tail(result), logFile: null });
    }
    return parsed;
  };
  let tensorflow = await findTensorflow();
  if (tensorflow.missing !== undefined) {
    const pip = await runner.run(python, ["-m", "pip", "--version"], { env: deps.env });
    if (pip.exitCode !== 0) fail({ reason: "no-pip", python, detail: firstLine(pip.stderr) || "python -m pip failed" });
    const logFile = path.join(deps.logDir, `pip-install-${wheelPackage}.log`);
    report("tensorflow", `not installed in ${python}; installing ${wheelPackage} with pip (takes minutes; log: ${logFile})`);
    const install = await runner.run(python, ["-m", "pip", "install", wheelPackage], { env: deps.env, logFile });
    if (install.exitCode !== 0) {
      fail({ reason: "step-failed", step: `pip install ${wheelPackage}`, command: `${python} -m pip install ${wheelPackage}`, exitCode: install.exitCode, logTail: tail(install), logFile });
    }
    tensorflow = await findTensorflow();
    if (tensorflow.missing !== undefined) {
      fail({ reason: "check-failed", message: `pip installed ${wheelPackage} but ${python} still cannot import tensorflow`, logTail: tensorflow.missing });
    }
  }
  const version = tensorflow.version ?? "unknown";
  const tensorflowDir = tensorflow.dir ?? "";
  if (compareVersions(version, MINIMUM_TENSORFLOW) < 0) fail({ reason: "tensorflow-too-old", python, version, minimum: MINIMUM_TENSORFLOW, wheelPackage });
  const absent = WHEEL_FILES.filter((file) => !existsSync(path.join(tensorflowDir, file)));
  if (absent.length > 0) fail({ reason: "wheel-incomplete", tensorflowDir, missing: absent });
  report("tensorflow", `${version} at ${tensorflowDir}`);

  // package
  const packageName = NATIVE_PACKAGES[backend];
  let status = nativeStatus(backend, deps.root);
  if (status.version === deps.tfjsVersion) {
    report("package", `${packageName}@${status.version} already installed`);
  } else {
    const spec = `${packageName}@${deps.tfjsVersion}`;
    const logFile = path.join(deps.logDir, "npm-install.log");
    const args = ["install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund", spec];
    const install = await runner.run("npm", args, { cwd: deps.root, env: deps.env, logFile });
    if (install.exitCode !== 0) fail({ reason: "step-failed", step: `installing ${spec}`, command: `npm ${args.join(" ")}`, exitCode: install.exitCode, logTail: tail(install), logFile });
    status = nativeStatus(backend, deps.root);
    if (status.version !== deps.tfjsVersion) {
      fail({ reason: "step-failed", step: `installing ${spec}`, command: `npm ${args.join(" ")}`, exitCode: 0, logTail: `${status.dir} has no package.json for ${deps.tfjsVersion} after the install`, logFile });
    }
    report("package", `installed ${spec} into ${deps.root} with its install script skipped (it would download libtensorflow 2.9.1)`);
  }

  // libraries + build, unless this binding was already built against this very wheel
  const stamp = await readStamp(status.dir);
  const upToDate = status.bindingBuilt && stamp?.tensorflowDir === tensorflowDir && stamp.tensorflowVersion === version;
  if (upToDate) {
    report("build", `binding already built against TensorFlow ${version}; skipped`);
  } else {
    await linkLibraries(status.dir, tensorflowDir);
    report("libraries", `linked ${path.join(status.dir, "deps")}/{include,lib} to the wheel's headers and libtensorflow_cc.so.2`);
    const started = Date.now();
    const logFile = await buildBinding(status.dir, tensorflowDir, deps);
    report("build", `compiled ${BINDING_PATH} with node-gyp in ${Math.round((Date.now() - started) / 1000)} s (log: ${logFile})`);
  }

  // check, in a child process so a broken binding cannot take this one down
  const tfjsDir = path.join(deps.root, "node_modules", "@tensorflow", "tfjs");
  const check = await runner.run(deps.nodePath, ["-e", CHECK_BINDING, status.dir, tfjsDir], { cwd: deps.root, env: tfEnv, timeoutMs: 120_000 });
  const checked = lastJson<{ backend: string; packageBackend: string; tensorflow: string | null; gpu: boolean | null; result: number[] }>(check);
  if (check.exitCode !== 0 || !checked) fail({ reason: "check-failed", message: `loading ${packageName} failed (exit ${check.exitCode})`, logTail: tail(check, 15) });
  if (checked.backend !== "tensorflow") {
    fail({ reason: "check-failed", message: `@tensorflow/tfjs reports backend "${checked.backend}", not "tensorflow": ${packageName} uses another copy of @tensorflow/tfjs-core (npm ls @tensorflow/tfjs-core)`, logTail: "" });
  }
  if (checked.result.join(",") !== "7,10,15,22") fail({ reason: "check-failed", message: `matMul gave [${checked.result.join(", ")}], expected [7, 10, 15, 22]`, logTail: "" });
  const loaded = checked.tensorflow ?? version;
  const gpuNote = !options.gpu || checked.gpu === null ? "" : checked.gpu ? "; GPU device in use" : "; no GPU device visible (CPU only)";
  report("check", `tf.getBackend() = ${checked.backend}; TensorFlow ${loaded}; matMul correct${gpuNote}`);

  if (!upToDate) {
    const record: BuildStamp = { version: 1, tensorflowVersion: version, tensorflowDir, python, builtAt: new Date().toISOString() };
    await writeFile(path.join(status.dir, BUILD_STAMP), `${JSON.stringify(record, null, 2)}\n`);
  }
  return { backend, tensorflowVersion: loaded, activeBackend: checked.backend, built: !upToDate };
}

async function readStamp(packageDir: string): Promise<BuildStamp | null> {
  try {
    return JSON.parse(await readFile(path.join(packageDir, BUILD_STAMP), "utf8")) as BuildStamp;
  } catch {
    return null;
  }
}

/** deps/include and deps/lib/* as symlinks into the wheel: nothing copied, nothing stale. */
export async function linkLibraries(packageDir: string, tensorflowDir: string): Promise<void> {
  const depsDir = path.join(packageDir, "deps");
  await rm(path.join(depsDir, "include"), { recursive: true, force: true });
  await rm(path.join(depsDir, "lib"), { recursive: true, force: true });
  await mkdir(path.join(depsDir, "lib"), { recursive: true });
  await symlink(path.join(tensorflowDir, "include"), path.join(depsDir, "include"), "dir");
  for (const [name, target] of Object.entries(LIBRARY_LINKS)) {
    await symlink(path.join(tensorflowDir, target), path.join(depsDir, "lib", name));
  }
}

/** node-gyp as bundled with npm (no download), next to the node that runs us or in npm's global prefix. */
async function findNodeGyp(deps: SetupDeps): Promise<string | null> {
  const bundled = (prefix: string) => path.join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
  const candidates = [deps.env.npm_config_node_gyp ?? "", bundled(path.dirname(path.dirname(deps.nodePath)))];
  const prefix = await deps.runner.run("npm", ["prefix", "-g"], { env: deps.env });
  if (prefix.exitCode === 0) candidates.push(bundled(prefix.stdout.trim()));
  return candidates.find((candidate) => candidate !== "" && existsSync(candidate)) ?? null;
}

async function buildBinding(packageDir: string, tensorflowDir: string, deps: SetupDeps): Promise<string> {
  const nodeGyp = await findNodeGyp(deps);
  if (!nodeGyp) fail({ reason: "no-compiler", missing: ["node-gyp (npm's bundled copy was not found; npm install -g node-gyp)"] });
  // module_path must be absolute: gyp's copy step runs from build/, not the package folder.
  const args = [nodeGyp, "rebuild", "--module_name=tfjs_binding", `--module_path=${path.join(packageDir, path.dirname(BINDING_PATH))}`, "--napi_build_version=8"];
  // Use the headers installed with this node when there are any; otherwise node-gyp fetches them.
  const nodeDir = path.dirname(path.dirname(deps.nodePath));
  if (existsSync(path.join(nodeDir, "include", "node", "node_api.h"))) args.push(`--nodedir=${nodeDir}`);
  const logFile = path.join(deps.logDir, "node-gyp-build.log");
  await rm(logFile, { force: true });
  // The binding's own rpath points at deps/lib; the wheel folder is added so libraries the
  // wheel finds relative to itself (CUDA's, for the GPU wheel) resolve as well.
  const env = { ...deps.env, LDFLAGS: `${deps.env.LDFLAGS ?? ""} -Wl,-rpath,${tensorflowDir}`.trim() };
  const result = await deps.runner.run(deps.nodePath, args, { cwd: packageDir, env, logFile });
  if (result.exitCode !== 0) {
    fail({ reason: "step-failed", step: "building the binding", command: `node ${args.join(" ")}`, exitCode: result.exitCode, logTail: tail(result), logFile });
  }
  return logFile;
}
