/**
 * Starts the WASM backend with threads in Node.
 *
 * @tensorflow/tfjs-backend-wasm ships a threaded build (XNNPACK on a pool of pthreads, which
 * Emscripten runs on worker_threads in Node) but declares threads unsupported in Node
 * (tensorflow/tfjs#3830). What fails is how its `init()` hands Emscripten the scripts: the
 * pthread worker script as a `blob:` URL, which Node's `Worker` cannot open, and the main
 * script as a `Blob` the worker cannot read with fs. The module also caps its threads at
 * half the logical cores it is told about (it assumes hyper-threading) and at 8, its pool.
 *
 * For the duration of the backend's initialisation only, `tryWasmThreads`
 * - turns on `WASM_HAS_MULTITHREAD_SUPPORT` and asks for n threads (`setThreadsCount`);
 * - answers `URL.createObjectURL` for tfjs's worker Blob with the path of a file in a private
 *   temporary folder: the same worker script after a prologue that replaces the Blob in the
 *   worker's "load" message with the package's own copy of the main script
 *   (`wasm-out/tfjs-backend-wasm-threaded-simd.js`, the same Emscripten output);
 * - answers the module's one core-count question (`os.cpus()`, asked from its glue) with 2n.
 * Everything is restored and the folder removed before it returns: the pool's 8 workers have
 * read their scripts by the time the module is ready, and XNNPACK starts all its threads then.
 * The running workers are unref'd so they never keep the process alive.
 *
 * The host (tfjs and the wasm package) is passed in, so the `mu-pipe doctor` probe, a plain
 * child process, runs the same code as `initBackend`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";

/** The package version these internals were read from; another version runs single-threaded. */
export const WASM_THREADS_VERSION = "4.22.0";
/** Emscripten's pthread pool in that build: XNNPACK gets at most this many threads. */
export const WASM_MAX_THREADS = 8;

/** Threads the wasm backend is asked for: `threads`, else every core (`runtime.threads`' default). */
export function wasmThreadsWanted(threads: number | undefined): number {
  return Math.max(1, threads ?? availableParallelism());
}

const THREADS_FLAG = "WASM_HAS_MULTITHREAD_SUPPORT";
const GLUE = "wasm-out/tfjs-backend-wasm-threaded-simd.js";
const WORKER = "wasm-out/tfjs-backend-wasm-threaded-simd.worker.js";

/** What `tryWasmThreads` needs of tfjs and @tensorflow/tfjs-backend-wasm (one instance of each). */
export interface WasmThreadsHost {
  /** `tf.env()`. */
  readonly env: { set(flag: string, value: boolean): void; getAsync(flag: string): Promise<unknown> };
  /** The wasm package's exports. */
  readonly wasm: { readonly version_wasm: string; setThreadsCount(count: number): void; getThreadsCount(): number };
  /** The wasm package's folder (holds wasm-out/). */
  readonly packageDir: string;
  /** `tf.setBackend("wasm")`. */
  setBackend(): Promise<boolean>;
  /** `tf.backend()`, once the wasm backend is active. */
  backend(): unknown;
}

interface NodeWorker {
  unref(): void;
}

interface ThreadedModule {
  readonly PThread?: { readonly runningWorkers: readonly NodeWorker[] };
}

const nodeRequire = createRequire(import.meta.url);
// The object the wasm glue reads `cpus` from (its `require("os")`), writable unlike an ES import.
const osModule = nodeRequire("node:os") as { cpus: () => import("node:os").CpuInfo[] };

/**
 * Starts the wasm backend with `threads` threads (capped at WASM_MAX_THREADS). Resolves with
 * null when the threaded build is active, else with why not, one line; the backend is then not
 * initialised and the caller initialises the single-threaded build as before.
 */
export async function tryWasmThreads(host: WasmThreadsHost, threads: number): Promise<string | null> {
  const wanted = Math.min(threads, WASM_MAX_THREADS);
  const problem = await threadsProblem(host);
  if (problem) return problem;
  let why: string;
  try {
    if (await withThreadedInit(host, wanted, () => host.setBackend())) {
      releaseWorkers(host.backend());
      return null;
    }
    why = "the threaded build did not initialise (tfjs printed why)";
  } catch (error) {
    why = `the threaded build failed: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`;
  }
  host.env.set(THREADS_FLAG, false);
  host.wasm.setThreadsCount(1);
  return why;
}

/** The backend's one-line description, for BackendInfo and `mu-pipe doctor` alike. */
export function wasmDetail(version: string, threaded: boolean): string {
  return `@tensorflow/tfjs-backend-wasm ${version} (XNNPACK, ${threaded ? "threaded build" : "single-threaded build"})`;
}

/** Whether the threaded build of the active backend is loaded (it has Emscripten's PThread). */
export function isThreadedBuild(backend: unknown): boolean {
  return threadedModule(backend)?.PThread !== undefined;
}

async function threadsProblem(host: WasmThreadsHost): Promise<string | null> {
  if (host.wasm.version_wasm !== WASM_THREADS_VERSION) {
    return `threads are set up for @tensorflow/tfjs-backend-wasm ${WASM_THREADS_VERSION}, this is ${host.wasm.version_wasm}`;
  }
  if (!sharedMemoryWorks()) return "this Node has no shared WebAssembly memory";
  if ((await host.env.getAsync("WASM_HAS_SIMD_SUPPORT")) !== true) return "no WebAssembly SIMD here, which the threaded build needs";
  const missing = [GLUE, WORKER].filter((file) => !existsSync(path.join(host.packageDir, file)));
  if (missing.length > 0) return `@tensorflow/tfjs-backend-wasm lacks ${missing.join(", ")}`;
  return null;
}

function sharedMemoryWorks(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Emscripten's pthread worker script as tfjs builds its Blob (a newline in a string literal escaped). */
function workerScript(packageDir: string): string {
  const { wasmWorkerContents } = nodeRequire(path.join(packageDir, WORKER)) as { wasmWorkerContents?: unknown };
  if (typeof wasmWorkerContents !== "string") throw new Error(`${WORKER} has no wasmWorkerContents`);
  return wasmWorkerContents.replace(/\n/g, "\\n");
}

/**
 * Runs before Emscripten's worker script (its listener is added first, so it sees the message
 * first): the main script arrives as a Blob, and the worker's importScripts reads a path.
 */
function workerPrologue(mainScript: string): string {
  return [
    '"use strict";',
    "// mu-pipe (stages/runtime/wasm-threads.ts): tfjs posts the main script as a Blob; load the package's copy.",
    `require("worker_threads").parentPort.on("message", (data) => {`,
    `  if (data && data.cmd === "load" && typeof data.urlOrBlob !== "string") data.urlOrBlob = ${JSON.stringify(mainScript)};`,
    "});",
    "",
  ].join("\n");
}

async function withThreadedInit(host: WasmThreadsHost, threads: number, init: () => Promise<boolean>): Promise<boolean> {
  const script = workerScript(host.packageDir);
  const dir = mkdtempSync(path.join(tmpdir(), "mu-pipe-wasm-threads-"));
  const workerFile = path.join(dir, "pthread-worker.cjs");
  writeFileSync(workerFile, workerPrologue(path.join(host.packageDir, GLUE)) + script, { mode: 0o600 });
  const scriptBytes = Buffer.byteLength(script);

  const createObjectURL = URL.createObjectURL;
  const cpus = osModule.cpus;
  URL.createObjectURL = (object: Blob) =>
    object instanceof Blob && object.type === "application/javascript" && object.size === scriptBytes ? workerFile : createObjectURL.call(URL, object);
  osModule.cpus = () => {
    const real = cpus.call(osModule);
    // The module keeps half of what its glue is told (hyper-threading); tell it 2n. Other callers get the truth.
    if (!askedByWasmGlue() || real.length === 0) return real;
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length] as import("node:os").CpuInfo);
  };
  host.env.set(THREADS_FLAG, true);
  host.wasm.setThreadsCount(threads);
  try {
    return await init();
  } finally {
    URL.createObjectURL = createObjectURL;
    osModule.cpus = cpus;
    rmSync(dir, { recursive: true, force: true });
  }
}

function askedByWasmGlue(): boolean {
  return (new Error().stack ?? "").includes("tfjs-backend-wasm");
}

function threadedModule(backend: unknown): ThreadedModule | null {
  const wasm = (backend as { wasm?: unknown } | null)?.wasm;
  return typeof wasm === "object" && wasm !== null ? (wasm as ThreadedModule) : null;
}

/** XNNPACK's threads wait for work for good; their workers must not keep Node running. */
function releaseWorkers(backend: unknown): void {
  for (const worker of threadedModule(backend)?.PThread?.runningWorkers ?? []) worker.unref();
}
