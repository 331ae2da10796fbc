/**
 * The TensorFlow.js backends mu-pipe runs on: the one list that the experiment's
 * `settings.runtime.backend`, `mu-pipe predict --backend` and `auto` read. No
 * TensorFlow here, so the stage registry and `mu-pipe doctor` stay cheap to load.
 */

/** Fastest first: the order `auto` tries. */
export const BACKEND_NAMES = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The fastest backend that loads; the default everywhere. */
export const AUTO_BACKEND = "auto";
export type BackendRequest = typeof AUTO_BACKEND | BackendName;
export const BACKEND_REQUESTS: readonly BackendRequest[] = [AUTO_BACKEND, ...BACKEND_NAMES];

export function isBackendRequest(value: string): value is BackendRequest {
  return (BACKEND_REQUESTS as readonly string[]).includes(value);
}

/** What `settings.runtime.backend` offers, handed to the engine's settings schema with the stage types. */
export const RUNTIME_CHOICES = {
  backends: BACKEND_REQUESTS,
  defaultBackend: AUTO_BACKEND,
  backendDescription: "`auto` picks the fastest backend that loads.",
  threadsDescription: "Threads for the wasm backend (default: every core, at most 8) and native TensorFlow's intra-op pool; the cpu backend uses one.",
} as const;
