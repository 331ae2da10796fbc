/**
 * `finetune`: trains MU-Net on a `tensors` artifact, either from ImageNet (or other
 * Keras) encoder weights or from an upstream finetune stage's best model, with the
 * layers `freeze` names held fixed. Used twice in the usual recipe: stage 1 freezes
 * the encoder and trains the decoder, stage 2 starts from stage 1's best model and
 * trains everything (or the blocks from `freeze.below` up).
 *
 * This module only declares the stage; TensorFlow loads inside `run`.
 */
import os from "node:os";

import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import { FINETUNE_OUTPUTS, finetuneParamsSchema, type FinetuneParams } from "./finetune-params.js";
import { encoderWeightsInputs } from "./encoder-weights-input.js";
import { describeResumePoint } from "./checkpoint-layout.js";
import { finetunePreflight } from "./finetune-preflight.js";

export const finetuneStage = defineStageType<FinetuneParams>({
  name: "finetune",
  version: 1,
  description: "Trains MU-Net on resized tensors (stage 1: frozen encoder; stage 2: from an upstream model, unfrozen)",
  paramsSchema: finetuneParamsSchema,
  inputs: {
    tensors: { description: "The `tensors` output of a resize stage (train and val splits)" },
    model: { description: "The `best` model of an upstream finetune stage to start from", optional: true },
  },
  outputs: {
    [FINETUNE_OUTPUTS.best]: { description: "The model of the epoch with the lowest val loss (TF.js folder with mu-model.json)" },
    [FINETUNE_OUTPUTS.last]: { description: "The model after the last epoch" },
    [FINETUNE_OUTPUTS.history]: { description: "Per epoch: loss, val_loss, dice, precision, recall, lr, seconds, images_per_second" },
    [FINETUNE_OUTPUTS.metrics]: { description: "The stage's metrics as JSON" },
  },
  usesSeed: true,
  usesBackend: true,
  externalInputs(params, baseDir, connected) {
    // With a `model` input the encoder comes from it, and no weights file is read.
    return connected.has("model") ? [] : encoderWeightsInputs(params.encoder.weights, params.model.alpha, baseDir, process.env, os.homedir());
  },
  preflight: finetunePreflight,
  async run(ctx: StageContext<FinetuneParams>) {
    const { runFinetune } = await import("./run-finetune.js");
    return runFinetune(ctx);
  },
  resumePoint(scratchDir, params) {
    // The last epoch checkpoint an interrupted attempt wrote (see checkpoint.ts).
    return describeResumePoint(scratchDir, params.epochs);
  },
  async report(ctx) {
    const { finetuneReport } = await import("./finetune-report.js");
    return finetuneReport(ctx);
  },
});
