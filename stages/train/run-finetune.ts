/**
 * The `finetune` stage's work, loaded only when it runs: checks the inputs, picks a
 * backend that can train, builds (or loads) the model, freezes layers, resumes from a
 * checkpoint if an earlier attempt left one, trains, and writes the outputs.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";

import type { Metrics, StageContext, StageOutcome } from "../../pipeline/stage.js";
import { openTensorShards } from "../data/tensor-shards.js";
import { applyKerasWeights } from "../model/apply-weights.js";
import { resolveImagenetWeights } from "../model/imagenet-weights.js";
import { readKerasWeights } from "../model/keras-h5.js";
import { layersModelWeights, loadLayersModelFolder, loadModelFolder, saveModelFolder, type ModelMetadata } from "../model/model-folder.js";
import { buildMuNet, encoderLayerNames, resolveMuNetArgs, type Alpha } from "../model/mu-net.js";
import { backendEnvironment, initBackend, type BackendInfo, type BackendRequest } from "../runtime/backend.js";
import { CheckpointStore, type TrainingState } from "./checkpoint.js";
import { balanceMetrics, balancePlan, balancedEpochOrder, describeBalance, SamplingError, type BalancePlan } from "./balanced-order.js";
import { FINETUNE_OUTPUTS, encoderWeightsPath, type FinetuneParams } from "./finetune-params.js";
import { batchTooLargeMessage, emptyValMessage, inputSizeMessage } from "./finetune-preflight.js";
import {
  applyFreeze,
  inferenceModeForFrozenBatchNorm,
  layerOrderedWeights,
  setLayerOrderedWeights,
  trainableVariables,
  type FreezeSummary,
} from "./freeze.js";
import { historyCsv, type HistoryRow } from "./history.js";
import { lossFunction } from "./losses.js";
import { createOptimizer } from "./optimizers.js";
import { SplitData } from "./train-data.js";
import { NonFiniteLossError, initialTrainingState, runTraining } from "./training-loop.js";

export const CREATED_BY = "mu-pipe finetune v1";

/** Test instrumentation; the engine passes none. */
export interface FinetuneHooks {
  /** The model with its starting weights, frozen, before any step (or resumed checkpoint). */
  onModelReady?(model: tf.LayersModel): void;
  /** After each epoch's checkpoint. */
  onEpochEnd?(row: HistoryRow, model: tf.LayersModel): void;
}

type Architecture = Pick<ModelMetadata, "alpha" | "inputSize" | "decoderFilters" | "inputScaling">;

export async function runFinetune(ctx: StageContext<FinetuneParams>, hooks: FinetuneHooks = {}): Promise<StageOutcome> {
  const params = ctx.params;
  const tensorsDir = ctx.inputs["tensors"];
  if (tensorsDir === undefined) throw new Error("finetune: input `tensors` is not connected");
  const shards = await openTensorShards(tensorsDir);
  const size = shards.manifest.size;
  const sizeProblem = inputSizeMessage(size);
  if (sizeProblem !== null) throw new Error(`finetune: ${sizeProblem} (${tensorsDir}); change the resize stage's params.size`);
  const train = await SplitData.open(shards, "train", { limit: params.limit, seed: ctx.seed });
  const limited = params.limit !== undefined && params.limit < shards.manifest.splits.train.count ? ` (limit ${params.limit})` : "";
  if (train.count === 0) throw new Error(`finetune: the training split of ${tensorsDir} is empty`);
  if (params.batch_size > train.count) throw new Error(`finetune: ${batchTooLargeMessage(params.batch_size, train.count, limited)}`);
  const val = await SplitData.open(shards, "val", { seed: ctx.seed });
  // Never replaced by the training split: best_val_* would then describe training data.
  if (val.count === 0) throw new Error(`finetune: ${emptyValMessage("the val split of the tensors")}`);
  ctx.log(`data: ${train.count} training items${limited}, ${val.count} validation items, ${size}x${size}`);
  // Checked before the backend and the model: a bad `sampling` fails before any training.
  const draws = ctx.params.sampling?.draws ?? train.count;
  const balance = balanceOf(ctx, train, draws);

  const backend = await initBackend(ctx.runtime.backend as BackendRequest, { purpose: "train", threads: ctx.runtime.threads, log: ctx.log });
  ctx.log(`backend: ${backend.name} (${backend.detail}), ${backend.threads} thread(s)`);

  const { model, architecture } = await prepareModel(ctx, size);
  let restoreBatchNorm = (): void => {};
  const optimizer = createOptimizer(params.optimizer);
  try {
    const freeze = applyFreeze(model, params.freeze);
    restoreBatchNorm = inferenceModeForFrozenBatchNorm(model);
    ctx.log(
      `freeze ${JSON.stringify(params.freeze)}: ${freeze.frozenLayers.length} layers frozen; ` +
        `${freeze.trainableParams} trainable parameters, ${freeze.frozenParams} not trained (BatchNorm statistics included)`,
    );
    hooks.onModelReady?.(model);
    const checkpoints = new CheckpointStore(ctx.scratchDir, runKey(ctx));
    const start = await resume(ctx, checkpoints, model, optimizer);

    let state: TrainingState;
    try {
      state = await runTraining(
        {
          model,
          variables: trainableVariables(model),
          optimizer,
          loss: lossFunction(params.loss),
          scaling: architecture.inputScaling,
          train,
          val,
          epochs: params.epochs,
          batchSize: params.batch_size,
          shuffle: params.shuffle,
          seed: ctx.seed,
          order: balance === null ? undefined : (epoch) => balancedEpochOrder(balance, draws, ctx.seed, epoch),
          drawsPerEpoch: draws,
          reduceLr: params.reduce_lr,
          earlyStopping: params.early_stopping,
          recomputeBatchNormBatches: params.recompute_bn_stats ?? 0,
          checkpoints,
          signal: ctx.signal,
          protect: (work) => ctx.protect(work),
          log: (message) => ctx.log(message),
          progress: (update) => ctx.progress(update),
          onEpochEnd: hooks.onEpochEnd,
        },
        start,
      );
    } catch (error) {
      if (error instanceof NonFiniteLossError) throw await nonFiniteFailure(ctx, error, checkpoints, model, architecture);
      throw error;
    }

    const metrics = { ...metricsOf(state, backend, freeze), ...(balance === null ? {} : balanceMetrics(balance)) };
    await writeOutputs(ctx, state, checkpoints, model, architecture, metrics);
    return { metrics, environment: backendEnvironment(backend) };
  } finally {
    restoreBatchNorm();
    optimizer.dispose();
    model.dispose();
  }
}

/** The groups of `params.sampling` over the training items (logged once), or null without it. */
function balanceOf(ctx: StageContext<FinetuneParams>, train: SplitData, draws: number): BalancePlan | null {
  const sampling = ctx.params.sampling;
  if (sampling === undefined) return null;
  let plan: BalancePlan;
  try {
    plan = balancePlan(train.items, sampling);
  } catch (error) {
    if (error instanceof SamplingError) throw new Error(`finetune: ${error.message}`);
    throw error;
  }
  ctx.log(describeBalance(plan, draws));
  if (!ctx.params.shuffle) ctx.log("note: shuffle: false does not apply with sampling (the balanced draws are seeded by the seed and the epoch)");
  return plan;
}

/** Builds the model at the tensors' size: from the upstream model's weights, or new with the chosen encoder weights. */
async function prepareModel(ctx: StageContext<FinetuneParams>, size: number): Promise<{ model: tf.LayersModel; architecture: Architecture }> {
  const params = ctx.params;
  const upstream = ctx.inputs["model"];
  if (upstream !== undefined) {
    const loaded = await loadModelFolder(upstream);
    try {
      const { metadata } = loaded;
      const config = resolveMuNetArgs({ alpha: metadata.alpha as Alpha, inputSize: size, decoderFilters: metadata.decoderFilters });
      const architecture: Architecture = { alpha: config.alpha, inputSize: size, decoderFilters: [...config.decoderFilters], inputScaling: metadata.inputScaling };
      ctx.log(
        `starting from ${upstream}: alpha ${metadata.alpha}, decoder [${metadata.decoderFilters.join(", ")}], input scaling ${metadata.inputScaling}` +
          ` (from its metadata; params.model and params.encoder are ignored)`,
      );
      const asked = params.model;
      if (asked.alpha !== metadata.alpha || asked.decoder_filters.join(",") !== metadata.decoderFilters.join(",") || asked.input_scaling !== metadata.inputScaling) {
        ctx.log(`note: params.model (alpha ${asked.alpha}, decoder [${asked.decoder_filters.join(", ")}], ${asked.input_scaling}) differs from the upstream model's; the upstream model's architecture is used`);
      }
      const model = buildMuNet(config);
      try {
        copyWeightsByLayerName(loaded.model, model);
      } catch (error) {
        model.dispose();
        throw new Error(`finetune: the weights of ${upstream} do not fit a MU-Net built from its metadata: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { model, architecture };
    } finally {
      loaded.model.dispose();
    }
  }

  const config = resolveMuNetArgs({ alpha: params.model.alpha, inputSize: size, decoderFilters: params.model.decoder_filters });
  const architecture: Architecture = { alpha: config.alpha, inputSize: size, decoderFilters: [...config.decoderFilters], inputScaling: params.model.input_scaling };
  // Seeded: the same experiment seed starts from the same decoder (and random encoder) weights.
  const model = buildMuNet(config, { seed: ctx.seed });
  try {
    await loadEncoderWeights(ctx, model, config.alpha);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, architecture };
}

/** A folder holding a model.json, or a model.json file. */
async function isLayersModelPath(file: string): Promise<boolean> {
  if (file.endsWith("model.json")) return true;
  return (await stat(file).catch(() => null))?.isDirectory() ?? false;
}

async function loadEncoderWeights(ctx: StageContext<FinetuneParams>, model: tf.LayersModel, alpha: Alpha): Promise<void> {
  const { weights, allow_download: allowDownload } = ctx.params.encoder;
  if (weights === "none") {
    ctx.log("encoder weights: none (random initialisation)");
    return;
  }
  const explicitPath = encoderWeightsPath(ctx.params, ctx.baseDir) ?? undefined;
  const encoder = new Set(encoderLayerNames(model));
  if (explicitPath !== undefined && (await isLayersModelPath(explicitPath))) {
    // A TF.js LayersModel (e.g. another tool's export): its encoder layers by Keras name.
    const source = await loadLayersModelFolder(explicitPath);
    try {
      const result = applyKerasWeights(model, layersModelWeights(source), { layers: (name) => encoder.has(name), source: explicitPath });
      ctx.log(`encoder weights: ${explicitPath} (TF.js LayersModel), ${result.loaded.length} layers loaded`);
    } finally {
      source.dispose();
    }
    return;
  }
  const resolved = await resolveImagenetWeights(alpha, { explicitPath, env: process.env, homeDir: os.homedir(), allowDownload, log: (m) => ctx.log(m), signal: ctx.signal });
  const file = await readKerasWeights(resolved.path);
  const result = applyKerasWeights(model, file, { layers: (name) => encoder.has(name), source: resolved.path });
  ctx.log(`encoder weights: ${resolved.path} (${resolved.source}), ${result.loaded.length} layers loaded`);
}

async function resume(ctx: StageContext<FinetuneParams>, checkpoints: CheckpointStore, model: tf.LayersModel, optimizer: ReturnType<typeof createOptimizer>): Promise<TrainingState> {
  const saved = await checkpoints.load((m) => ctx.log(m));
  if (saved === null) return initialTrainingState(ctx.params.optimizer.lr);
  try {
    setLayerOrderedWeights(model, saved.weights);
    await optimizer.setState(saved.optimizer);
  } finally {
    tf.dispose(saved.weights);
    tf.dispose(saved.optimizer.slots.map((t) => t.tensor));
  }
  const next = saved.state.completedEpochs + 1;
  if (saved.state.stoppedEarly || saved.state.completedEpochs >= ctx.params.epochs) {
    ctx.log(`resuming after epoch ${saved.state.completedEpochs}: training had already finished`);
  } else {
    ctx.log(`resuming from epoch ${next} (checkpoint after epoch ${saved.state.completedEpochs}, lr ${saved.state.lr})`);
  }
  return saved.state;
}

/** Copies every layer's weights from `source` to the layer of the same name in `target` (same architecture). */
function copyWeightsByLayerName(source: tf.LayersModel, target: tf.LayersModel): void {
  for (const layer of target.layers) {
    if (layer.weights.length === 0) continue;
    let from: tf.layers.Layer;
    try {
      from = source.getLayer(layer.name);
    } catch {
      throw new Error(`it has no layer ${layer.name}`);
    }
    layer.setWeights(from.getWeights());
  }
}

function metadataFor(architecture: Architecture): ModelMetadata {
  return { version: 1, format: "mu-pipe-model", ...architecture, threshold: null, createdBy: CREATED_BY };
}

async function writeOutputs(
  ctx: StageContext<FinetuneParams>,
  state: TrainingState,
  checkpoints: CheckpointStore,
  model: tf.LayersModel,
  architecture: Architecture,
  metrics: Metrics,
): Promise<void> {
  await mkdir(ctx.outDir, { recursive: true });
  const metadata = metadataFor(architecture);
  await saveModelFolder(model, path.join(ctx.outDir, FINETUNE_OUTPUTS.last), metadata);
  await withWeights(model, await checkpoints.loadBestWeights(), () => saveModelFolder(model, path.join(ctx.outDir, FINETUNE_OUTPUTS.best), metadata));
  await writeFile(path.join(ctx.outDir, FINETUNE_OUTPUTS.history), historyCsv(state.history));
  await writeFile(path.join(ctx.outDir, FINETUNE_OUTPUTS.metrics), `${JSON.stringify({ version: 1, ...metrics }, null, 2)}\n`);
}

/** Runs `action` with `weights` set on the model (if given), then puts the current weights back. */
async function withWeights(model: tf.LayersModel, weights: tf.Tensor[] | null, action: () => Promise<void>): Promise<void> {
  if (weights === null) return action();
  const current = layerOrderedWeights(model).map((w) => w.clone());
  try {
    setLayerOrderedWeights(model, weights);
    await action();
  } finally {
    setLayerOrderedWeights(model, current);
    tf.dispose([...current, ...weights]);
  }
}

/** On NaN: keep the last good checkpoint's models in the scratch folder and fail with a message saying so. */
async function nonFiniteFailure(
  ctx: StageContext<FinetuneParams>,
  error: NonFiniteLossError,
  checkpoints: CheckpointStore,
  model: tf.LayersModel,
  architecture: Architecture,
): Promise<Error> {
  const saved = await checkpoints.load();
  const advice = `lower optimizer.lr (now ${ctx.params.optimizer.lr}) or check the data`;
  if (saved === null) {
    return new Error(`finetune: ${error.message}; stopped. No epoch had finished, so there is no good checkpoint to keep; ${advice}`);
  }
  const keptDir = path.join(ctx.scratchDir, "kept");
  const metadata = metadataFor(architecture);
  try {
    setLayerOrderedWeights(model, saved.weights);
  } finally {
    tf.dispose(saved.weights);
    tf.dispose(saved.optimizer.slots.map((t) => t.tensor));
  }
  await saveModelFolder(model, path.join(keptDir, FINETUNE_OUTPUTS.last), metadata);
  await withWeights(model, await checkpoints.loadBestWeights(), () => saveModelFolder(model, path.join(keptDir, FINETUNE_OUTPUTS.best), metadata));
  await writeFile(path.join(keptDir, FINETUNE_OUTPUTS.history), historyCsv(saved.state.history));
  const best = saved.state.best;
  return new Error(
    `finetune: ${error.message}; stopped. Kept the last good checkpoint (after epoch ${saved.state.completedEpochs}` +
      `${best === null ? "" : `; best epoch ${best.epoch}, loss ${best.loss.toFixed(4)}`}) as \`last\` and \`best\` in ${keptDir}; ${advice}`,
  );
}

function meanImagesPerSecond(history: readonly HistoryRow[]): number {
  if (history.length === 0) return 0;
  // Harmonic mean of the epochs' rates = total images / total training seconds.
  const seconds = history.reduce((sum, row) => sum + 1 / row.images_per_second, 0);
  return history.length / seconds;
}

function metricsOf(state: TrainingState, backend: BackendInfo, freeze: FreezeSummary): Metrics {
  const best = state.best;
  const bestRow = best === null ? undefined : state.history.find((row) => row.epoch === best.epoch);
  return {
    best_val_dice: bestRow?.dice ?? null,
    best_val_loss: best?.loss ?? null,
    best_epoch: best?.epoch ?? null,
    epochs_run: state.history.length,
    final_lr: state.lr,
    train_images_per_second: round(meanImagesPerSecond(state.history), 4),
    backend: backend.name,
    backend_version: backend.version,
    threads: backend.threads,
    stopped_early: state.stoppedEarly,
    trainable_params: freeze.trainableParams,
    frozen_params: freeze.frozenParams,
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** What a checkpoint must match to be resumed: the params, the seed and the inputs (sorted keys). */
function runKey(ctx: StageContext<FinetuneParams>): string {
  return sortedJson({ params: ctx.params, seed: ctx.seed, inputs: ctx.inputs });
}

function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
