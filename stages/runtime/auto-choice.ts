/**
 * The ranking `runtime.backend: auto` follows, and which backends can train. No TensorFlow
 * here: `mu-pipe doctor` uses it to say what auto would pick without loading anything.
 */
import type { BackendName } from "./failures.js";

/** Fastest first: the order `auto` tries. */
export const BACKEND_ORDER_NAMES: readonly BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];

export type BackendPurpose = "train" | "infer";

/** Whether training (gradients of every MU-Net op) works on this backend. */
export function backendCanTrain(_info: { readonly name: BackendName }): boolean {
  // Every backend can: wasm gets its missing gradient kernels from wasm-kernels/register.ts
  // when initBackend activates it.
  return true;
}

/** What auto would take from probes ordered fastest first; null when none is available. */
export function pickAuto(probes: readonly { readonly name: BackendName; readonly available: boolean }[], purpose: BackendPurpose): BackendName | null {
  return probes.find((p) => p.available && (purpose === "infer" || backendCanTrain(p)))?.name ?? null;
}
