/**
 * The optimisers the finetune stage offers, behind one small interface: the training
 * loop needs to minimise, change the learning rate (reduce-LR-on-plateau) and move the
 * optimiser's state in and out of a checkpoint.
 */
import * as tf from "@tensorflow/tfjs";

import { NadamOptimizer, type NamedTensor } from "./nadam.js";

export type OptimizerName = "nadam" | "adam" | "sgd";

export interface OptimizerParams {
  readonly name: OptimizerName;
  readonly lr: number;
  /** SGD only. */
  readonly momentum: number;
}

export interface OptimizerState {
  readonly iterations: number;
  /** Per-variable slots in the optimiser's order (Adam/Nadam: every m, then every v). */
  readonly slots: readonly NamedTensor[];
}

export interface TrainingOptimizer {
  readonly name: OptimizerName;
  readonly optimizer: tf.Optimizer;
  getLearningRate(): number;
  setLearningRate(lr: number): void;
  /** Step count and slot tensors (the slots are the optimiser's own: do not dispose them). */
  getState(): Promise<OptimizerState>;
  /** Replaces the state; the slot tensors are copied, not taken. */
  setState(state: OptimizerState): Promise<void>;
  dispose(): void;
}

/** Keras's default epsilon, used for Adam as for Nadam (tf.js would take the backend's). */
const EPSILON = 1e-7;

/** tf.AdamOptimizer with a settable learning rate (tf.js keeps it protected). */
class ScheduledAdam extends tf.AdamOptimizer {
  getLearningRate(): number {
    return this.learningRate;
  }

  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

/** tf.MomentumOptimizer exposes setLearningRate but not the current value. */
class ScheduledMomentum extends tf.MomentumOptimizer {
  getLearningRate(): number {
    return this.learningRate;
  }
}

export function createOptimizer(params: OptimizerParams): TrainingOptimizer {
  if (!(params.lr > 0) || !Number.isFinite(params.lr)) throw new RangeError(`optimizer.lr must be a positive number, got ${params.lr}`);
  switch (params.name) {
    case "nadam":
      return wrap("nadam", new NadamOptimizer({ learningRate: params.lr, epsilon: EPSILON }));
    case "adam":
      return wrap("adam", new ScheduledAdam(params.lr, 0.9, 0.999, EPSILON));
    case "sgd":
      return wrap("sgd", new ScheduledMomentum(params.lr, params.momentum));
  }
}

interface Schedulable extends tf.Optimizer {
  getLearningRate(): number;
  setLearningRate(lr: number): void;
}

function wrap(name: OptimizerName, optimizer: Schedulable): TrainingOptimizer {
  return {
    name,
    optimizer,
    getLearningRate: () => optimizer.getLearningRate(),
    setLearningRate: (lr) => optimizer.setLearningRate(lr),
    async getState() {
      // tf.js optimisers put a new scalar of the step count first, then their slot variables.
      const [iterations, ...slots] = await optimizer.getWeights();
      if (iterations === undefined) throw new Error(`${name}: getWeights returned nothing`);
      const count = (await iterations.tensor.data())[0] ?? 0;
      iterations.tensor.dispose();
      return { iterations: count, slots };
    },
    async setState(state) {
      const iterations = tf.scalar(state.iterations, "int32");
      try {
        await optimizer.setWeights([{ name: "iter", tensor: iterations }, ...state.slots.map((slot) => ({ name: slot.name, tensor: slot.tensor }))]);
      } finally {
        iterations.dispose();
      }
    },
    dispose: () => optimizer.dispose(),
  };
}
