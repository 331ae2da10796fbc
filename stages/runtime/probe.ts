/**
 * What `mu-pipe doctor` reports: for every backend, whether it loads here, its version and
 * thread count, or why not and what enables it. Each backend is tried in a child process
 * (load it, run a matMul, compare), so probing neither changes this process's backend nor
 * falls over when a native library crashes on load.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { processRunner, type CommandRunner } from "./command-runner.js";
import { setupCommand, type BackendName } from "./failures.js";
import { restoreIfMissing } from "./native-cache.js";
import { installRoot, nativeProblem, nativeStatus, resolvePackageDir, tensorflowThreads } from "./native-package.js";
import { wasmDetail, wasmThreadsWanted } from "./wasm-threads.js";

/**
 * The compiled wasm-threads module beside this one, which the wasm probe imports to start
 * threads as a run does. Running from source (vitest) there is none, and that probe loads
 * the single-threaded build.
 */
const WASM_THREADS_MODULE = fileURLToPath(new URL("./wasm-threads.js", import.meta.url));

export interface BackendProbe {
  readonly name: BackendName;
  readonly available: boolean;
  /** Engine version (TensorFlow's for native backends); null when unavailable. */
  readonly version: string | null;
  readonly threads: number | null;
  /** What loaded, or why it did not. */
  readonly detail: string;
  /** The command that makes it available; null when it is or nothing here can. */
  readonly enable: string | null;
}

export interface ProbeDeps {
  readonly runner: CommandRunner;
  readonly nodePath: string;
  readonly env: NodeJS.ProcessEnv;
  /** Where the optional native packages are installed (tests point this at a temp folder). */
  readonly root: string;
}

const PROBE = `
const [name, tfjsDir, extraDir, threadsModule, threads] = process.argv.slice(1);
const report = (value) => process.stdout.write(JSON.stringify(value) + "\\n");
(async () => {
  const tf = require(tfjsDir);
  let version = tf.version["tfjs-backend-cpu"];
  let wasm = null;
  let note = null;
  if (name === "wasm") {
    wasm = require(extraDir);
    wasm.setWasmPaths(require("path").join(extraDir, "dist") + require("path").sep);
    version = wasm.version_wasm;
    if (threadsModule && Number(threads) > 1) {
      const { tryWasmThreads } = await import(require("url").pathToFileURL(threadsModule).href);
      note = await tryWasmThreads({ env: tf.env(), wasm, packageDir: extraDir, setBackend: () => tf.setBackend("wasm"), backend: () => tf.backend() }, Number(threads));
    }
  } else if (name !== "cpu") {
    require(extraDir);
  }
  const tfName = name === "tensorflow-gpu" ? "tensorflow" : name;
  if (tf.getBackend() !== tfName && (!(await tf.setBackend(tfName)) || tf.getBackend() !== tfName)) throw new Error("tf.setBackend(" + tfName + ") failed; active: " + tf.getBackend());
  const a = tf.tensor2d([[1, 2], [3, 4]]);
  const result = Array.from(tf.matMul(a, a).dataSync()).join(",");
  if (result !== "7,10,15,22") throw new Error("matMul gave " + result);
  const binding = tfName === "tensorflow" ? tf.backend().binding : null;
  const threaded = wasm ? "PThread" in tf.backend().wasm : null;
  report({ ok: true, version: binding ? binding.TF_Version : version, threads: wasm ? wasm.getThreadsCount() : null, gpu: binding ? binding.isUsingGpuDevice() : null, threaded, note });
})().catch((error) => report({ ok: false, error: String((error && error.message) || error).split("\\n")[0] }));
`;


interface ProbeOutput {
  readonly ok: boolean;
  readonly error?: string;
  readonly version?: string;
  readonly threads?: number | null;
  readonly gpu?: boolean | null;
  /** wasm: whether the threaded build loaded, and if not, why threads did not start. */
  readonly threaded?: boolean | null;
  readonly note?: string | null;
}

function parseProbe(line: string): ProbeOutput | null {
  try {
    return JSON.parse(line) as ProbeOutput;
  } catch {
    return null;
  }
}

function defaultDeps(): ProbeDeps {
  return { runner: processRunner, nodePath: process.execPath, env: process.env, root: installRoot() };
}

export async function probeBackends(deps: ProbeDeps = defaultDeps()): Promise<BackendProbe[]> {
  const tfjsDir = resolvePackageDir("@tensorflow/tfjs");
  const wasmDir = resolvePackageDir("@tensorflow/tfjs-backend-wasm");
  const unavailable = (name: BackendName, detail: string, enable: string | null): BackendProbe => ({ name, available: false, version: null, threads: null, detail, enable });

  async function probe(name: BackendName, extraDir: string, describe: (version: string, parsed: ProbeOutput) => string, enable: string | null): Promise<BackendProbe> {
    if (!tfjsDir) return unavailable(name, "@tensorflow/tfjs is not installed", "npm ci");
    // wasm starts on threads as a run would (every core), through the compiled wasm-threads module.
    const threadsArgs = name === "wasm" && existsSync(WASM_THREADS_MODULE) ? [WASM_THREADS_MODULE, String(wasmThreadsWanted(undefined))] : [];
    const result = await deps.runner.run(deps.nodePath, ["-e", PROBE, name, tfjsDir, extraDir, ...threadsArgs], { cwd: deps.root, env: { ...deps.env, TF_CPP_MIN_LOG_LEVEL: "3" }, timeoutMs: 120_000 });
    const line = result.stdout.trim().split("\n").at(-1) ?? "";
    const parsed = parseProbe(line);
    if (!parsed || !parsed.ok) {
      const why = parsed?.error ?? (result.stderr.trim().split("\n").at(-1) || `probe exited with ${result.exitCode ?? "a signal"}`);
      return unavailable(name, `fails to load: ${why}`, enable);
    }
    const version = parsed.version ?? "unknown";
    const threads = parsed.threads ?? (name.startsWith("tensorflow") ? tensorflowThreads(deps.env) : 1);
    return { name, available: true, version, threads, detail: describe(version, parsed), enable: null };
  }

  async function probeNative(name: "tensorflow" | "tensorflow-gpu"): Promise<BackendProbe> {
    // As a run would: a binding npm ci removed comes back from the cache (native-cache.ts).
    const restored = await restoreIfMissing(name, deps.root, deps.env);
    const status = nativeStatus(name, deps.root);
    const problem = nativeProblem(status);
    if (problem) return unavailable(name, restored?.kind === "none" ? `${problem}; cache: ${restored.why}` : problem, setupCommand(name));
    const cache = restored?.kind === "restored" ? `; binding restored from the cache ${restored.entryDir} in ${Math.round(restored.ms)} ms` : "";
    const from = status.stamp ? ` (libtensorflow from ${status.stamp.tensorflowDir}${cache})` : "";
    return probe(name, status.dir, (version, { gpu }) => `${status.packageName} ${status.version ?? "?"} on TensorFlow ${version}${name === "tensorflow-gpu" && gpu === false ? ", no GPU device visible" : ""}${from}`, setupCommand(name));
  }

  return Promise.all([
    probeNative("tensorflow-gpu"),
    probeNative("tensorflow"),
    wasmDir
      ? probe("wasm", wasmDir, (v, { threaded, note }) => `${wasmDetail(v, threaded === true)}${note ? `; no threads: ${note}` : ""}`, "npm ci")
      : Promise.resolve(unavailable("wasm", "@tensorflow/tfjs-backend-wasm is not installed", "npm ci")),
    probe("cpu", "", (v) => `@tensorflow/tfjs-backend-cpu ${v} (pure JavaScript)`, "npm ci"),
  ]);
}
