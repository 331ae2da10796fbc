/**
 * The ranking `runtime.backend: auto` follows. No TensorFlow
 * here: `mu-pipe doctor` uses it to say what auto would pick without loading anything.
 */
import { BACKEND_NAMES, type BackendName } from "./backend-names.js";

/** Fastest first: the order `auto` tries. */
export const BACKEND_ORDER_NAMES: readonly BackendName[] = BACKEND_NAMES;

export type BackendPurpose = "train" | "infer";

/** What auto would take from probes ordered fastest first; null when none is available. */
export function pickAuto(probes: readonly { readonly name: BackendName; readonly available: boolean }[]): BackendName | null {
  return probes.find((p) => p.available)?.name ?? null;
}
