/**
 * The hand-written training loop: epochs of shuffled batches, each step one
 * `optimizer.minimize` inside `tf.tidy`, then an evaluation pass (on batch-norm-folded
 * weights, validation.ts), the callbacks
 * (best checkpoint, reduce-LR-on-plateau, early stopping) and a checkpoint.
 *
 * The loss is summed on the device and read back every REPORT_EVERY batches (for
 * progress and the NaN check), not after every step.
 */
import * as tf from "@tensorflow/tfjs";

import type { InputScaling } from "../model/input-scaling.js";
import {
  INITIAL_EARLY_STOPPING,
  INITIAL_REDUCE_LR,
  earlyStoppingStep,
  isNewBest,
  reduceLrStep,
  type EarlyStoppingParams,
  type ReduceLrParams,
} from "./callbacks.js";
import { recomputeBatchNormStatistics } from "./batch-norm-statistics.js";
import type { CheckpointStore, TrainingState } from "./checkpoint.js";
import type { HistoryRow } from "./history.js";
import { pixelScores, type LossFunction } from "./losses.js";
import type { TrainingOptimizer } from "./optimizers.js";
import { stopPoint } from "../runtime/stop-point.js";
import { batchPositions, batchTensors, epochOrder, type SplitData } from "./train-data.js";
import { evaluateSplit } from "./validation.js";

/** Batches between reads of the running loss. */
export const REPORT_EVERY = 5;

export interface TrainingSetup {
  readonly model: tf.LayersModel;
  /** The variables the optimiser updates. */
  readonly variables: tf.Variable[];
  readonly optimizer: TrainingOptimizer;
  readonly loss: LossFunction;
  readonly scaling: InputScaling;
  readonly train: SplitData;
  /** The validation split: its loss is what the callbacks monitor, its scores the epoch's. */
  readonly val: SplitData;
  readonly epochs: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /**
   * The positions of the training items drawn in `epoch` (balanced sampling), cut into
   * batches as they come; absent: each item once, by `epochOrder`.
   */
  readonly order?: (epoch: number) => number[];
  /** Items drawn per epoch when `order` is given (balanced sampling may fix it); default: every training item once. */
  readonly drawsPerEpoch?: number;
  readonly reduceLr: ReduceLrParams;
  readonly earlyStopping: EarlyStoppingParams;
  /** Training batches whose statistics replace the BatchNorm moving averages before each evaluation; 0 keeps Keras's averages. */
  readonly recomputeBatchNormBatches: number;
  readonly checkpoints: CheckpointStore;
  /** Aborted to stop: checked between batches, so training stops within about one batch. */
  readonly signal: AbortSignal;
  /** Marks work that must finish even when the run stops without waiting (`StageContext.protect`). */
  protect<T>(work: Promise<T>): Promise<T>;
  log(message: string): void;
  progress(update: { message: string; current: number; total: number; unit: string }): void;
  /** Called after each epoch's checkpoint is written (tests count tensors here). */
  onEpochEnd?(row: HistoryRow, model: tf.LayersModel): void;
}

export function initialTrainingState(lr: number): TrainingState {
  return { completedEpochs: 0, lr, reduceLr: INITIAL_REDUCE_LR, earlyStopping: INITIAL_EARLY_STOPPING, best: null, stoppedEarly: false, history: [] };
}

/** The loss became NaN or infinite; the last checkpoint (if any) is the last good state. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly epoch: number,
    readonly batch: number | null,
    readonly value: number,
  ) {
    super(`loss became ${value} in epoch ${epoch}${batch === null ? " (evaluation)" : `, batch ${batch}`}`);
    this.name = "NonFiniteLossError";
  }
}

/** Runs epochs `state.completedEpochs + 1 ..` and returns the final state. */
export async function runTraining(setup: TrainingSetup, start: TrainingState): Promise<TrainingState> {
  const { model, optimizer, train, batchSize, epochs } = setup;
  const drawsPerEpoch = setup.drawsPerEpoch ?? train.count;
  const batchesPerEpoch = Math.ceil(drawsPerEpoch / batchSize);
  const totalBatches = batchesPerEpoch * epochs;
  let state = start;

  for (let epoch = state.completedEpochs + 1; epoch <= epochs && !state.stoppedEarly; epoch++) {
    const epochStart = performance.now();
    const lr = state.lr;
    optimizer.setLearningRate(lr);
    const order = setup.order?.(epoch) ?? epochOrder(train.count, setup.seed, epoch, setup.shuffle);
    const batches = batchPositions(order, batchSize);
    let lossSum: tf.Scalar = tf.scalar(0);
    let lastLoss = Number.NaN;
    let seen = 0;
    try {
      for (const [index, positions] of batches.entries()) {
        await stopPoint(setup.signal);
        const bytes = await train.gather(positions);
        const weighted = tf.tidy(() => {
          const batch = batchTensors(bytes, train.size, setup.scaling);
          const cost = optimizer.optimizer.minimize(
            () => setup.loss(batch.masks, model.apply(batch.images, { training: true }) as tf.Tensor),
            true,
            setup.variables,
          );
          if (cost === null) throw new Error("optimizer.minimize returned no loss");
          return tf.mul(cost, positions.length);
        });
        const next = tf.add(lossSum, weighted) as tf.Scalar;
        tf.dispose([lossSum, weighted]);
        lossSum = next;
        const done = index + 1;
        seen += positions.length;
        if (done % REPORT_EVERY === 0 || done === batches.length) {
          lastLoss = (await lossSum.data())[0] as number / seen;
          if (!Number.isFinite(lastLoss)) throw new NonFiniteLossError(epoch, done, lastLoss);
        }
        setup.progress({
          message: `epoch ${epoch}/${epochs} batch ${done}/${batches.length} loss ${Number.isNaN(lastLoss) ? "..." : lastLoss.toFixed(3)}`,
          current: (epoch - 1) * batchesPerEpoch + done,
          total: totalBatches,
          unit: "batches",
        });
      }
    } finally {
      lossSum.dispose();
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const trainLoss = lastLoss;

    setup.signal.throwIfAborted();
    if (setup.recomputeBatchNormBatches > 0) {
      await recomputeBatchNormStatistics({
        model,
        data: train,
        batches: setup.recomputeBatchNormBatches,
        batchSize,
        scaling: setup.scaling,
        seed: setup.seed,
        // Balanced sampling: the statistics of batches drawn as training draws them (a fixed draw, like epochOrder's epoch 0).
        order: setup.order?.(0),
        signal: setup.signal,
      });
    }
    const evaluated = await evaluateSplit(model, setup.val, { batchSize, scaling: setup.scaling, loss: setup.loss, signal: setup.signal, log: setup.log });
    if (!Number.isFinite(evaluated.loss)) throw new NonFiniteLossError(epoch, null, evaluated.loss);
    const scores = pixelScores(evaluated.tp, evaluated.fp, evaluated.fn);
    const monitored = evaluated.loss;
    const row: HistoryRow = {
      epoch,
      loss: trainLoss,
      val_loss: evaluated.loss,
      dice: scores.dice,
      precision: scores.precision,
      recall: scores.recall,
      lr,
      seconds: (performance.now() - epochStart) / 1000,
      images_per_second: drawsPerEpoch / Math.max(trainSeconds, 1e-9),
    };

    const newBest = isNewBest(state.best?.loss ?? null, monitored);
    const reduced = reduceLrStep(setup.reduceLr, state.reduceLr, monitored, lr);
    const stopping = earlyStoppingStep(setup.earlyStopping, state.earlyStopping, monitored, epoch - 1);
    state = {
      completedEpochs: epoch,
      lr: reduced.lr,
      reduceLr: reduced.state,
      earlyStopping: stopping.state,
      best: newBest ? { epoch, loss: monitored, dice: scores.dice } : state.best,
      stoppedEarly: stopping.stop,
      history: [...state.history, row],
    };
    setup.log(
      `epoch ${epoch}/${epochs}: loss ${fmt(row.loss)}` +
        (row.val_loss === null ? "" : ` val_loss ${fmt(row.val_loss)}`) +
        ` dice ${fmt(row.dice)} precision ${fmt(row.precision)} recall ${fmt(row.recall)} lr ${row.lr}` +
        ` ${row.seconds.toFixed(1)} s ${row.images_per_second.toFixed(2)} img/s${newBest ? " (best)" : ""}`,
    );
    if (reduced.reduced) setup.log(`reducing the learning rate to ${reduced.lr} (no improvement for ${setup.reduceLr.patience} epochs)`);
    if (stopping.stop) setup.log(`stopping early after epoch ${epoch}: no improvement for ${setup.earlyStopping.patience} epochs`);
    // Protected: a second Ctrl-C must not cut the checkpoint the next attempt resumes from.
    await setup.protect(setup.checkpoints.save(state, model, await optimizer.getState(), newBest));
    setup.onEpochEnd?.(row, model);
  }
  return state;
}

function fmt(value: number): string {
  return value.toFixed(4);
}
