/**
 * Where the optional native packages (`@tensorflow/tfjs-node`, `-gpu`) live and what state
 * they are in: absent, installed without a binding, or built. No TensorFlow is loaded here,
 * so `mu-pipe doctor` can ask cheaply.
 *
 * The packages go into the node_modules that holds the `@tensorflow/tfjs-core` this
 * module resolves, so they share that one copy of core (a second copy would register the
 * backend where `@tensorflow/tfjs` never looks).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

export type NativeBackend = "tensorflow" | "tensorflow-gpu";


export const NATIVE_PACKAGES: Readonly<Record<NativeBackend, string>> = {
  tensorflow: "@tensorflow/tfjs-node",
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
};

/** Where node-gyp puts the binding, the path the package's loader looks at (N-API 8). */
export const BINDING_PATH = "lib/napi-v8/tfjs_binding.node";

/** Written by `mu-pipe setup tensorflow` into the package folder after a checked build. */
export const BUILD_STAMP = "deps/mu-pipe-build.json";

export interface BuildStamp {
  readonly version: 1;
  /** TensorFlow version of the wheel the binding was linked against. */
  readonly tensorflowVersion: string;
  /** The wheel's `tensorflow` package folder (where libtensorflow_cc.so.2 lives). */
  readonly tensorflowDir: string;
  readonly python: string;
  readonly builtAt: string;
}

const require = createRequire(import.meta.url);

/** Resolves a package's folder from this module, or null when it is not installed. */
export function resolvePackageDir(name: string): string | null {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** The installed `@tensorflow/tfjs` version: the native packages must match it exactly. */
export function tfjsVersion(): string {
  const dir = resolvePackageDir("@tensorflow/tfjs");
  if (!dir) throw new Error("@tensorflow/tfjs is not installed (run npm ci)");
  return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
}

/**
 * The folder whose node_modules holds the `@tensorflow/tfjs-core` this module uses: the
 * place to install native packages so they dedupe against it.
 */
export function installRoot(): string {
  const core = resolvePackageDir("@tensorflow/tfjs-core");
  if (!core) throw new Error("@tensorflow/tfjs-core is not installed (run npm ci)");
  // <root>/node_modules/@tensorflow/tfjs-core
  return path.dirname(path.dirname(path.dirname(core)));
}

export interface NativeStatus {
  readonly backend: NativeBackend;
  readonly packageName: string;
  /** Folder the package is (or would be) in. */
  readonly dir: string;
  /** Installed version, null when absent. */
  readonly version: string | null;
  readonly bindingBuilt: boolean;
  readonly stamp: BuildStamp | null;
}

export function nativeStatus(backend: NativeBackend, root: string = installRoot()): NativeStatus {
  const packageName = NATIVE_PACKAGES[backend];
  const dir = path.join(root, "node_modules", packageName);
  let version: string | null = null;
  try {
    version = (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version?: string }).version ?? null;
  } catch {
    version = null;
  }
  let stamp: BuildStamp | null = null;
  try {
    stamp = JSON.parse(readFileSync(path.join(dir, BUILD_STAMP), "utf8")) as BuildStamp;
  } catch {
    stamp = null;
  }
  return { backend, packageName, dir, version, bindingBuilt: version !== null && existsSync(path.join(dir, BINDING_PATH)), stamp };
}

/** Why a native package cannot load, judged from files only; null when it looks loadable. */
export function nativeProblem(status: NativeStatus): string | null {
  if (status.version === null) return `${status.packageName} is not installed`;
  const wanted = tfjsVersion();
  if (status.version !== wanted) return `${status.packageName} is ${status.version}, but @tensorflow/tfjs is ${wanted}`;
  if (!status.bindingBuilt) return `${status.packageName} is installed but its native binding (${BINDING_PATH}) is not built`;
  return null;
}

/** TensorFlow's intra-op thread count: what TF_NUM_INTRAOP_THREADS says, else one per CPU. */
export function tensorflowThreads(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number.parseInt(env.TF_NUM_INTRAOP_THREADS ?? "", 10);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism();
}

