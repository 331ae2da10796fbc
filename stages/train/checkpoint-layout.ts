/**
 * The on-disk layout of training checkpoints (see checkpoint.ts), and reading which one
 * is the latest, without TensorFlow: `mu-pipe status` asks what a rerun resumes from.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";

import type { EarlyStoppingState, ReduceLrState } from "./callbacks.js";
import type { HistoryRow } from "./history.js";

export const CHECKPOINT_VERSION = 1;
/** Names the latest complete checkpoint folder; replaced by rename after the folder is in place. */
export const LATEST_FILE = "latest.json";

export interface BestEpoch {
  readonly epoch: number;
  /** The monitored loss (val loss, or train loss without a val split). */
  readonly loss: number;
  readonly dice: number;
}

/** Everything the training loop needs to continue after `completedEpochs`. */
export interface TrainingState {
  readonly completedEpochs: number;
  /** The lr for the next epoch. */
  readonly lr: number;
  readonly reduceLr: ReduceLrState;
  readonly earlyStopping: EarlyStoppingState;
  readonly best: BestEpoch | null;
  readonly stoppedEarly: boolean;
  readonly history: readonly HistoryRow[];
}

export interface TensorFileSpec {
  readonly names: readonly string[];
  readonly specs: tf.io.WeightsManifestEntry[];
}

/** `<checkpoint>/state.json`. */
export interface StateFile {
  readonly version: typeof CHECKPOINT_VERSION;
  readonly runKey: string;
  readonly state: TrainingState;
  readonly model: TensorFileSpec;
  readonly best: TensorFileSpec;
  readonly optimizer: TensorFileSpec;
  readonly optimizerIterations: number;
}

export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, "0")}`;
}

/** The latest checkpoint in `dir` (its folder name and state file), or null when there is none of this version. */
export async function readLatestCheckpoint(dir: string): Promise<{ name: string; file: StateFile } | null> {
  let name: string;
  try {
    const pointer = JSON.parse(await readFile(path.join(dir, LATEST_FILE), "utf8")) as { checkpoint?: unknown };
    if (typeof pointer.checkpoint !== "string") return null;
    name = pointer.checkpoint;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const file = JSON.parse(await readFile(path.join(dir, name, "state.json"), "utf8")) as StateFile;
  if (file.version !== CHECKPOINT_VERSION) return null;
  return { name, file };
}

/** `epoch 3 of 30` (what a rerun resumes after), or null without a checkpoint. */
export async function describeResumePoint(dir: string, epochs: number): Promise<string | null> {
  const latest = await readLatestCheckpoint(dir);
  if (latest === null) return null;
  const { completedEpochs, stoppedEarly } = latest.file.state;
  const finished = stoppedEarly || completedEpochs >= epochs;
  return `epoch ${completedEpochs} of ${epochs}${finished ? " (training had finished)" : ""}`;
}
