/**
 * What each backend gives, as measured (reference.md §5): MU-Net 224x224, batch 8, one
 * training step = forward + backward + Nadam, on a 2-core AMD EPYC. Shown by `mu-pipe
 * doctor` so a person can judge whether building a faster backend is worth it.
 */
import type { BackendName } from "./failures.js";

export interface SpeedExpectation {
  /** Training images/s; null when the backend cannot train or was not measured. */
  readonly train: number | null;
  readonly infer: number | null;
  readonly note: string;
}

export const SPEED_CONDITIONS = "MU-Net 224x224, batch 8, measured on a 2-core AMD EPYC";

export const EXPECTED_SPEED: Readonly<Record<BackendName, SpeedExpectation>> = {
  "tensorflow-gpu": { train: null, infer: null, note: "not measured here (no GPU); the fastest by far where a CUDA GPU is present" },
  tensorflow: { train: 12.2, infer: 42, note: "native TensorFlow, all cores; fused batch norm" },
  wasm: { train: 2.4, infer: 13.5, note: "2 threads (1 thread: train 1.8, infer 8.8); mu-pipe's gradient kernels on XNNPACK" },
  cpu: { train: 0.01, infer: 1, note: "pure JavaScript: for tests and tiny models only" },
};

export function formatSpeed(speed: SpeedExpectation): string {
  const train = speed.train === null ? "train -" : `train ~${speed.train} img/s`;
  const infer = speed.infer === null ? "infer -" : `infer ~${speed.infer} img/s`;
  return `${train}, ${infer}`;
}
