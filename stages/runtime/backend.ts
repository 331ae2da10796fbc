/**
 * Chooses and activates the TensorFlow.js backend, once per process.
 *
 * `auto` takes the fastest that loads: native GPU, native CPU, WASM, pure JS. The native
 * packages are optional and loaded with a dynamic import, so their absence (or a missing
 * binding) only removes them from the choice. WASM gets the gradient kernels it lacks
 * upstream (wasm-kernels/) when it activates, so every backend can train, and runs on
 * worker threads (wasm-threads.ts) unless asked for one thread or they cannot start.
 */
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_ORDER_NAMES, type BackendPurpose } from "./auto-choice.js";
import type { BackendRequest } from "./backend-names.js";
import { RuntimeError, setupCommand, type BackendName } from "./failures.js";
import { installFusedOps } from "./fused-ops/index.js";
import { restoreIfMissing } from "./native-cache.js";
import { NATIVE_PACKAGES, nativeProblem, nativeStatus, resolvePackageDir, tensorflowThreads, type NativeBackend } from "./native-package.js";
import { isThreadedBuild, tryWasmThreads, wasmDetail, wasmThreadsWanted, WASM_MAX_THREADS } from "./wasm-threads.js";

export type { BackendName, BackendRequest } from "./backend-names.js";
export type { BackendPurpose } from "./auto-choice.js";

export interface BackendInfo {
  readonly name: BackendName;
  /** Version of the engine underneath: TensorFlow's for native, the tfjs backend package's otherwise. */
  readonly version: string;
  readonly threads: number;
  /** One line for people and run.json, e.g. `@tensorflow/tfjs-node 4.22.0 on TensorFlow 2.21.0`. */
  readonly detail: string;
}

export interface InitOptions {
  /** `train` refuses (explicit) or skips (auto) backends that cannot compute gradients. */
  readonly purpose: BackendPurpose;
  /**
   * Threads: intra-op threads for native TensorFlow (sets TF_NUM_INTRAOP_THREADS before it
   * loads; its own default otherwise); XNNPACK's threads for wasm (default: the machine's
   * cores, at most 8; 1 is the single-threaded build). The cpu backend has one.
   */
  readonly threads?: number;
  /** Told why `auto` skipped a backend and which one it took, and why wasm runs on fewer threads than asked. */
  readonly log?: (message: string) => void;
}


let active: { readonly info: BackendInfo; readonly request: BackendRequest } | null = null;

/** The backend as a stage reports it for run.json. */
export function backendEnvironment(info: BackendInfo): Readonly<Record<string, string | number>> {
  return { backend: info.name, backend_version: info.version, threads: info.threads, backend_detail: info.detail };
}

/** The backend this process activated, or null before `initBackend`. */
export function activeBackend(): BackendInfo | null {
  return active?.info ?? null;
}

/**
 * Production mode: skips debug checks and the "install our node backend" banner the cpu
 * backend prints on stderr, which contradicts `mu-pipe setup tensorflow`; the choice of
 * backend is ours and reported. For code that uses TF.js without choosing a backend too.
 */
export function quietTensorflow(): void {
  tf.enableProdMode();
}

export async function initBackend(request: BackendRequest, options: InitOptions): Promise<BackendInfo> {
  quietTensorflow();
  if (active) {
    const { info } = active;
    if (request !== "auto" && request !== info.name) throw new RuntimeError({ reason: "backend-conflict", active: info.name, requested: request });
    return info;
  }
  if (request !== "auto") {
    const info = await activate(request, options);
    active = { info, request };
    return info;
  }
  const tried: { backend: BackendName; why: string }[] = [];
  for (const name of BACKEND_ORDER_NAMES) {
    try {
      const info = await activate(name, options);
      options.log?.(`backend ${name}: ${info.detail}, ${info.threads} thread${info.threads === 1 ? "" : "s"}`);
      active = { info, request };
      return info;
    } catch (error) {
      const why = error instanceof RuntimeError && error.failure.reason === "backend-unavailable" ? error.failure.why : errorText(error);
      tried.push({ backend: name, why });
      options.log?.(`backend ${name}: not available (${why})`);
    }
  }
  throw new RuntimeError({ reason: "no-backend", tried });
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

function activate(name: BackendName, options: InitOptions): Promise<BackendInfo> {
  switch (name) {
    case "cpu":
      return activateCpu();
    case "wasm":
      return activateWasm(options);
    case "tensorflow":
    case "tensorflow-gpu":
      return activateNative(name, options);
  }
}

async function setBackendChecked(name: BackendName, tfName: string, fix: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
  } catch (error) {
    throw new RuntimeError({ reason: "backend-unavailable", backend: name, why: errorText(error), fix });
  }
  if (!ok || tf.getBackend() !== tfName) {
    throw new RuntimeError({ reason: "backend-unavailable", backend: name, why: `tf.setBackend("${tfName}") failed (active: ${tf.getBackend()})`, fix });
  }
}

async function activateCpu(): Promise<BackendInfo> {
  await setBackendChecked("cpu", "cpu", "reinstall dependencies (npm ci)");
  const version = tf.version["tfjs-backend-cpu"] ?? tf.version_core;
  return { name: "cpu", version, threads: 1, detail: `@tensorflow/tfjs-backend-cpu ${version} (pure JavaScript)` };
}

/** The folder holding the WASM backend's .wasm files, as setWasmPaths wants it (trailing slash). */
export function wasmDistDir(): string | null {
  const dir = resolvePackageDir("@tensorflow/tfjs-backend-wasm");
  return dir ? `${path.join(dir, "dist")}${path.sep}` : null;
}

async function activateWasm(options: InitOptions): Promise<BackendInfo> {
  const fix = "npm install @tensorflow/tfjs-backend-wasm@" + tf.version_core;
  const dist = wasmDistDir();
  if (!dist) throw new RuntimeError({ reason: "backend-unavailable", backend: "wasm", why: "@tensorflow/tfjs-backend-wasm is not installed", fix });
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  wasm.setWasmPaths(dist);
  // The gradient kernels training needs, on XNNPACK convolutions and matrix products.
  const { registerWasmTrainingKernels } = await import("./wasm-kernels/register.js");
  registerWasmTrainingKernels();
  const wanted = wasmThreadsWanted(options.threads);
  if (wanted > 1) {
    // The package folder: dist's parent.
    const host = { env: tf.env(), wasm, packageDir: path.dirname(dist), setBackend: () => tf.setBackend("wasm"), backend: () => tf.backend() };
    const why = await tryWasmThreads(host, wanted);
    if (why) options.log?.(`wasm: 1 thread instead of ${wanted}: ${why}`);
    else if (wanted > WASM_MAX_THREADS) options.log?.(`wasm: ${WASM_MAX_THREADS} threads instead of ${wanted}: tfjs-backend-wasm's pool has ${WASM_MAX_THREADS}`);
  }
  if (tf.getBackend() !== "wasm") await setBackendChecked("wasm", "wasm", fix);
  return { name: "wasm", version: wasm.version_wasm, threads: wasm.getThreadsCount(), detail: wasmDetail(wasm.version_wasm, isThreadedBuild(tf.backend())) };
}

interface NativeBinding {
  readonly TF_Version?: string;
  isUsingGpuDevice?(): boolean;
}

async function activateNative(name: NativeBackend, options: InitOptions): Promise<BackendInfo> {
  const fix = setupCommand(name);
  // npm ci deletes the binding setup built; put back the copy kept outside node_modules.
  const restored = await restoreIfMissing(name);
  if (restored?.kind === "restored") options.log?.(`${name}: binding restored from ${restored.entryDir} in ${Math.round(restored.ms)} ms (npm ci had removed it)`);
  const status = nativeStatus(name);
  const problem = nativeProblem(status);
  if (problem) throw new RuntimeError({ reason: "backend-unavailable", backend: name, why: problem, fix });
  if (options.threads !== undefined && process.env.TF_NUM_INTRAOP_THREADS === undefined) {
    process.env.TF_NUM_INTRAOP_THREADS = String(options.threads);
  }
  // TensorFlow's C++ start-up chatter (oneDNN, CPU features) goes to stderr around our
  // progress display; keep warnings and errors unless the user chose a level.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  try {
    await import(NATIVE_PACKAGES[name]);
  } catch (error) {
    throw new RuntimeError({ reason: "backend-unavailable", backend: name, why: `loading ${status.packageName} failed: ${errorText(error)}`, fix });
  }
  // The package registers "tensorflow" on the tfjs-core it resolved; it must be ours.
  if (!tf.findBackendFactory("tensorflow")) {
    throw new RuntimeError({
      reason: "backend-unavailable",
      backend: name,
      why: `${status.packageName} registered its backend on another copy of @tensorflow/tfjs-core (npm ls @tensorflow/tfjs-core shows the duplicate)`,
      fix: `npm dedupe, then ${fix}`,
    });
  }
  await setBackendChecked(name, "tensorflow", fix);
  // Training-mode batch norm, ReLU6 and ReLU gradients as single TensorFlow ops (stages/runtime/fused-ops).
  installFusedOps();
  const binding = (tf.backend() as unknown as { binding?: NativeBinding }).binding;
  const tfVersion = binding?.TF_Version ?? status.stamp?.tensorflowVersion ?? "unknown";
  const gpu = name === "tensorflow-gpu" ? (binding?.isUsingGpuDevice?.() ? ", GPU device in use" : ", no GPU device visible (runs on CPU)") : "";
  return {
    name,
    version: tfVersion,
    threads: tensorflowThreads(),
    detail: `${status.packageName} ${status.version ?? "?"} on TensorFlow ${tfVersion}${gpu}`,
  };
}
