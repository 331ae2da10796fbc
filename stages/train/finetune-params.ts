/**
 * The params of the `finetune` stage: their types, their JSON schema and the names of
 * its outputs. Cheap to import: no TensorFlow here, so the stage, its runner and its
 * report section all import this file and not each other.
 */
import path from "node:path";

import type { EarlyStoppingParams, ReduceLrParams } from "./callbacks.js";
import type { FreezeSpec } from "./freeze.js";
import type { LossName } from "./losses.js";
import type { OptimizerParams } from "./optimizers.js";

export interface FinetuneParams {
  /** Architecture when there is no `model` input (then it comes from the model's metadata). */
  readonly model: {
    readonly alpha: 0.35 | 0.5 | 0.75 | 1.0;
    readonly decoder_filters: readonly number[];
    readonly input_scaling: "imagenet" | "unit";
  };
  /** Encoder initialisation when there is no `model` input. */
  readonly encoder: {
    /** `imagenet`, `none` (random), or a path to a Keras .h5 weights file or a TF.js LayersModel folder (relative to the experiment file). */
    readonly weights: string;
    readonly allow_download: boolean;
  };
  readonly freeze: FreezeSpec;
  readonly epochs: number;
  readonly batch_size: number;
  readonly optimizer: OptimizerParams;
  readonly loss: LossName;
  readonly reduce_lr: ReduceLrParams;
  readonly early_stopping: EarlyStoppingParams;
  readonly shuffle: boolean;
  /** At most this many training items (a seeded choice), for quick runs. */
  readonly limit?: number;
  /** Before each evaluation, BatchNorm statistics from this many training batches (precise BN); absent: Keras's moving averages. */
  readonly recompute_bn_stats?: number;
  /** Draw the training batches balanced over an item attribute; absent: every item once per epoch, in a seeded shuffle. */
  readonly sampling?: SamplingParams;
}

export interface SamplingParams {
  /** The item attribute whose values form the groups (e.g. `kind` from load's `name_attributes`). */
  readonly balance_by: string;
  /** Relative share of the draws per value; absent: an equal share each. */
  readonly weights?: Readonly<Record<string, number>>;
  /** Items drawn per epoch; absent: one per training item. */
  readonly draws?: number;
}

/**
 * Metric names under which a balanced run records its groups, for the report: the
 * attribute, then per value its share of the draws and its training items.
 */
export const BALANCE_METRICS = { by: "balance_by", share: "balance_share.", items: "balance_items." } as const;

export const FINETUNE_OUTPUTS = {
  best: "best",
  last: "last",
  history: "history.csv",
  metrics: "metrics.json",
} as const;

export const finetuneParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    model: {
      type: "object",
      additionalProperties: false,
      default: {},
      description: "Architecture of a new model. Ignored when the `model` input is connected (its metadata decides).",
      properties: {
        alpha: { enum: [0.35, 0.5, 0.75, 1.0], default: 0.35, description: "MobileNetV2 width multiplier of the encoder" },
        decoder_filters: {
          type: "array",
          items: { type: "integer", minimum: 1 },
          minItems: 4,
          maxItems: 4,
          default: [64, 48, 32, 16],
          description: "Filters of the 4 decoder stages, deepest first",
        },
        input_scaling: {
          enum: ["imagenet", "unit"],
          default: "imagenet",
          description: "Pixel scaling: `imagenet` to [-1, 1] (what the ImageNet encoder expects), `unit` to [0, 1] (the original script)",
        },
      },
    },
    encoder: {
      type: "object",
      additionalProperties: false,
      default: {},
      description: "Initial encoder weights of a new model. Ignored when the `model` input is connected.",
      properties: {
        weights: {
          type: "string",
          minLength: 1,
          default: "imagenet",
          description: "`imagenet` (Keras's ImageNet MobileNetV2 weights, found or downloaded), `none` (random), or a path (relative to the experiment file) of a Keras .h5 weights file or a TF.js LayersModel folder (model.json + weights), whose encoder layers are loaded by Keras layer name",
        },
        allow_download: { type: "boolean", default: true, description: "Whether `imagenet` may download the Keras weights file when it is not found locally" },
      },
    },
    freeze: {
      description: "Layers that do not train: `encoder` (stage 1), `none` (stage 2), or `{below: block_N}` (encoder blocks before N)",
      default: "encoder",
      oneOf: [
        { enum: ["encoder", "none"] },
        {
          type: "object",
          additionalProperties: false,
          required: ["below"],
          properties: { below: { type: "string", description: "First Keras block that trains, e.g. block_6" } },
        },
      ],
    },
    epochs: { type: "integer", minimum: 1, default: 30, description: "Maximum number of epochs" },
    batch_size: { type: "integer", minimum: 1, default: 8, description: "Images per training step" },
    optimizer: {
      type: "object",
      additionalProperties: false,
      default: {},
      description: "Optimiser and learning rate",
      properties: {
        name: { enum: ["nadam", "adam", "sgd"], default: "nadam", description: "Nadam (Keras's), Adam, or SGD with momentum" },
        lr: { type: "number", exclusiveMinimum: 0, default: 1e-4, description: "Initial learning rate" },
        momentum: { type: "number", minimum: 0, exclusiveMaximum: 1, default: 0.9, description: "Momentum (sgd only)" },
      },
    },
    loss: {
      enum: ["dice", "dice_bce"],
      default: "dice",
      description: "`dice`: Dice over the whole batch; `dice_bce`: Dice plus binary cross-entropy",
    },
    reduce_lr: {
      type: "object",
      additionalProperties: false,
      default: {},
      description: "Reduce the learning rate when the val loss stops improving (Keras ReduceLROnPlateau)",
      properties: {
        factor: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.1, description: "New lr = lr * factor" },
        patience: { type: "integer", minimum: 1, default: 4, description: "Epochs without improvement before reducing" },
        min_lr: { type: "number", minimum: 0, default: 0, description: "Lower bound of the learning rate" },
        min_delta: { type: "number", minimum: 0, default: 1e-4, description: "Smallest decrease that counts as an improvement" },
      },
    },
    early_stopping: {
      type: "object",
      additionalProperties: false,
      default: {},
      description: "Stop when the val loss stops improving (Keras EarlyStopping)",
      properties: {
        patience: { type: "integer", minimum: 1, default: 10, description: "Epochs without improvement before stopping" },
        min_delta: { type: "number", minimum: 0, default: 0, description: "Smallest decrease that counts as an improvement" },
      },
    },
    shuffle: { type: "boolean", default: true, description: "Shuffle the training items every epoch (order fixed by the seed and epoch)" },
    limit: { type: "integer", minimum: 1, description: "Use at most this many training items (a seeded choice), for quick runs" },
    recompute_bn_stats: {
      type: "integer",
      minimum: 1,
      description:
        "Before each evaluation, replace the moving statistics of the BatchNorm layers that train with their average over this many training batches (precise BN). For short runs from random weights, where Keras's slow moving averages (momentum 0.99/0.999) still describe the initial weights; absent: Keras's moving averages",
    },
    sampling: {
      type: "object",
      additionalProperties: false,
      required: ["balance_by"],
      description:
        "Balance the training batches over the values of an item attribute (e.g. `kind` from load's `name_attributes`): each batch slot picks a value with probability proportional to its weight (equal by default), then that value's next item from a seeded shuffle, reshuffled when used up, so small groups repeat and large ones are subsampled. An epoch keeps its number of steps; validation is not resampled; `shuffle` does not apply. Absent: every training item once per epoch",
      properties: {
        balance_by: { type: "string", minLength: 1, description: "The attribute whose values form the groups; every training item must have it" },
        draws: {
          type: "integer",
          minimum: 1,
          description:
            "Items drawn per epoch (so steps = ceil(draws / batch_size)); absent: one per training item. Fixes an epoch's cost when augment copies or merged data make the pool larger: the pool is then sampled like on-the-fly augmentation",
        },
        weights: {
          type: "object",
          additionalProperties: { type: "number", exclusiveMinimum: 0 },
          minProperties: 1,
          description: "Relative share of the draws per value, e.g. { webcam: 2, unityeyes: 1 }; when given, every value the training items have needs a weight, and no other value may be named",
        },
      },
    },
  },
} as const;

/** Whether `encoder.weights` names a file rather than `imagenet` or `none`. */
export function encoderWeightsPath(params: Pick<FinetuneParams, "encoder">, baseDir: string): string | null {
  const { weights } = params.encoder;
  return weights === "imagenet" || weights === "none" ? null : path.resolve(baseDir, weights);
}
