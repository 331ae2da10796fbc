/**
 * What `mu-pipe run` does about the native backend before its first stage: when the
 * binding `setup tensorflow` built is gone (npm ci deletes node_modules), put it back
 * from the cache (native-cache.ts, milliseconds), else rebuild it against a wheel a
 * cached entry names that is still installed, else say in one line which backend the
 * run falls back to, how much slower that is, and the command that fixes it.
 *
 * Loads no TensorFlow: files and, for a rebuild, child processes only.
 */
import path from "node:path";
import { processRunner, type CommandRunner } from "./command-runner.js";
import { setupCommand, type BackendName } from "./failures.js";
import { setupTensorflow } from "./native-build.js";
import { restoreIfMissing, saveToCache, cacheRoot } from "./native-cache.js";
import { installRoot, nativeProblem, nativeStatus, resolvePackageDir, tfjsVersion, type NativeBackend } from "./native-package.js";
import { EXPECTED_SPEED } from "./speed.js";

export interface NativeStartupDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly root: string;
  readonly runner: CommandRunner;
  /** Told before a rebuild starts (it takes seconds). */
  readonly announce: (line: string) => void;
}

/** One line for the start of a run, or null when the native backend was there already (or not wanted). */
export async function prepareNativeBackend(request: string, deps: Partial<NativeStartupDeps> = {}): Promise<string | null> {
  const backend: NativeBackend | null = request === "auto" || request === "tensorflow" ? "tensorflow" : request === "tensorflow-gpu" ? "tensorflow-gpu" : null;
  if (backend === null) return null;
  const env = deps.env ?? process.env;
  const root = deps.root ?? installRoot();
  if (nativeProblem(nativeStatus(backend, root)) === null) return null;
  // auto takes a built GPU backend first: nothing to say then.
  if (request === "auto" && nativeProblem(nativeStatus("tensorflow-gpu", root)) === null) return null;

  const restored = await restoreIfMissing(backend, root, env);
  if (restored?.kind === "restored") {
    return `backend: ${backend} binding restored from the cache in ${Math.round(restored.ms)} ms (npm ci had removed it; ${restored.entryDir})`;
  }
  const wheel = restored?.kind === "none" ? restored.wheels[0] : undefined;
  if (wheel) {
    deps.announce?.(`backend: the ${backend} binding is missing and the cached one does not fit (${restored?.kind === "none" ? restored.why : ""}); rebuilding it against ${wheel.tensorflowDir}`);
    try {
      const started = Date.now();
      await setupTensorflow(
        { gpu: backend === "tensorflow-gpu", python: wheel.python },
        {
          runner: deps.runner ?? processRunner,
          env,
          root,
          tfjsVersion: tfjsVersion(),
          logDir: path.join(root, "node_modules", ".cache", "mu-pipe"),
          nodePath: process.execPath,
          report: () => {},
        },
      );
      saveToCache(nativeStatus(backend, root), cacheRoot(env));
      return `backend: ${backend} binding rebuilt in ${Math.round((Date.now() - started) / 1000)} s`;
    } catch (error) {
      return fallbackLine(backend, `rebuilding failed: ${(error instanceof Error ? error.message : String(error)).split("\n")[0] ?? ""}`);
    }
  }
  return request === "auto" ? fallbackLine(backend, nativeProblem(nativeStatus(backend, root)) ?? "not built") : null;
}

/** `auto` without the native backend: which backend it takes, how much slower, and the fix. */
export function fallbackLine(backend: NativeBackend, why: string, hasWasm: boolean = resolvePackageDir("@tensorflow/tfjs-backend-wasm") !== null): string {
  const fallback: BackendName = hasWasm ? "wasm" : "cpu";
  const fast = EXPECTED_SPEED[backend].train ?? EXPECTED_SPEED.tensorflow.train ?? 1;
  const slow = EXPECTED_SPEED[fallback].train ?? 1;
  return `backend: falling back to ${fallback}, training about ${Math.round(fast / slow)}x slower (${slow} vs ${fast} images/s for MU-Net at 224x224) because ${why}; to fix: ${setupCommand(backend)}`;
}
