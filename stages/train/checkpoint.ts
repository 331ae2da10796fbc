/**
 * Training checkpoints in the stage's scratch folder, so an interrupted run resumes
 * at the epoch it was in rather than starting over.
 *
 * Layout: `<scratch>/epoch-<nnnn>/` holds `state.json` (the loop's state, see
 * TrainingState), `model.bin` (every model weight, BatchNorm statistics included),
 * `best.bin` (the weights of the best epoch so far) and `optimizer.bin` (step count and
 * slots). A checkpoint is written under a temporary name and renamed; `latest.json`
 * then points at it (also written by rename), and only then older checkpoints go.
 * A checkpoint whose `runKey` differs from this run's is ignored.
 */
import { mkdir, readFile, rename, rm, writeFile, readdir, copyFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

import { CHECKPOINT_VERSION, LATEST_FILE, epochDirName, readLatestCheckpoint, type StateFile, type TensorFileSpec, type TrainingState } from "./checkpoint-layout.js";
import { layerOrderedWeights } from "./freeze.js";
import type { NamedTensor } from "./nadam.js";
import type { OptimizerState } from "./optimizers.js";

export type { BestEpoch, TrainingState } from "./checkpoint-layout.js";

export interface LoadedCheckpoint {
  readonly state: TrainingState;
  /** Model weights in `layerOrderedWeights` order; the caller disposes them (and the optimizer slots). */
  readonly weights: tf.Tensor[];
  readonly optimizer: OptimizerState;
}

export class CheckpointStore {
  constructor(
    readonly dir: string,
    /** Identifies the run (params, seed, inputs): a checkpoint of another run is not resumed. */
    readonly runKey: string,
  ) {}

  /** Writes the checkpoint after `state.completedEpochs`; `isBest` copies the model weights as the best ones. */
  async save(state: TrainingState, model: tf.LayersModel, optimizer: OptimizerState, isBest: boolean): Promise<void> {
    const name = epochDirName(state.completedEpochs);
    const tmp = path.join(this.dir, `${name}.tmp`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const modelSpec = await writeTensors(path.join(tmp, "model.bin"), layerOrderedWeights(model).map((tensor, i) => ({ name: `w${i}`, tensor })));
    const optimizerSpec = await writeTensors(path.join(tmp, "optimizer.bin"), optimizer.slots);
    let bestSpec = modelSpec;
    const previous = isBest ? null : await this.readLatest();
    if (isBest || previous === null) {
      await copyFile(path.join(tmp, "model.bin"), path.join(tmp, "best.bin"));
    } else {
      await copyFile(path.join(this.dir, previous.name, "best.bin"), path.join(tmp, "best.bin"));
      bestSpec = previous.file.best;
    }
    const file: StateFile = { version: CHECKPOINT_VERSION, runKey: this.runKey, state, model: modelSpec, best: bestSpec, optimizer: optimizerSpec, optimizerIterations: optimizer.iterations };
    await writeFile(path.join(tmp, "state.json"), `${JSON.stringify(file)}\n`);
    await rm(path.join(this.dir, name), { recursive: true, force: true });
    await rename(tmp, path.join(this.dir, name));
    const latestTmp = path.join(this.dir, `${LATEST_FILE}.tmp`);
    await writeFile(latestTmp, `${JSON.stringify({ checkpoint: name })}\n`);
    await rename(latestTmp, path.join(this.dir, LATEST_FILE));
    for (const entry of await readdir(this.dir)) {
      if (entry.startsWith("epoch-") && entry !== name) await rm(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }

  /** The latest checkpoint of this run, or null (none, or another run's). */
  async load(log: (message: string) => void = () => {}): Promise<LoadedCheckpoint | null> {
    const latest = await this.readLatest();
    if (latest === null) return null;
    if (latest.file.runKey !== this.runKey) {
      log(`ignoring checkpoint ${latest.name}: it belongs to a run with other settings`);
      return null;
    }
    const folder = path.join(this.dir, latest.name);
    const weights = await readTensors(path.join(folder, "model.bin"), latest.file.model);
    const slots = await readTensors(path.join(folder, "optimizer.bin"), latest.file.optimizer);
    return {
      state: latest.file.state,
      weights: weights.map((w) => w.tensor),
      optimizer: { iterations: latest.file.optimizerIterations, slots },
    };
  }

  /** The best weights of the latest checkpoint (`layerOrderedWeights` order), or null. */
  async loadBestWeights(): Promise<tf.Tensor[] | null> {
    const latest = await this.readLatest();
    if (latest === null || latest.file.runKey !== this.runKey) return null;
    const best = await readTensors(path.join(this.dir, latest.name, "best.bin"), latest.file.best);
    return best.map((w) => w.tensor);
  }

  private readLatest(): Promise<{ name: string; file: StateFile } | null> {
    return readLatestCheckpoint(this.dir);
  }
}

async function writeTensors(file: string, tensors: readonly NamedTensor[]): Promise<TensorFileSpec> {
  const names = tensors.map((t) => t.name);
  const { data, specs } = await tf.io.encodeWeights(tensors.map((t, i) => ({ name: `t${i}`, tensor: t.tensor })));
  const bytes = tf.io.CompositeArrayBuffer.join(data);
  await writeFile(file, new Uint8Array(bytes));
  return { names, specs };
}

async function readTensors(file: string, spec: TensorFileSpec): Promise<NamedTensor[]> {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const decoded = tf.io.decodeWeights(buffer, spec.specs);
  return spec.names.map((name, i) => {
    const tensor = decoded[`t${i}`];
    if (tensor === undefined) throw new Error(`checkpoint ${file} lacks tensor ${i} (${name})`);
    return { name, tensor };
  });
}
