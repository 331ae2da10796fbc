/**
 * The `predict` stage's work, loaded only when it runs.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";

import type { StageContext, StageOutcome } from "../../pipeline/stage.js";
import { InputFileError, InputProblems } from "../data/input-problems.js";
import { openTensorShards, type TensorItem, type TensorShards } from "../data/tensor-shards.js";
import { backendEnvironment, initBackend, type BackendRequest } from "../runtime/backend.js";
import { findImages, NoImagesError } from "./image-input.js";
import { loadInferenceModel } from "./inference-model.js";
import { itemsToInfer } from "./infer.js";
import { imageFiles, predictFilesInto, predictSplitInto, tensorNameSource, type ImageFile } from "./predict-images.js";
import { FALLBACK_THRESHOLD, PREDICT_OUTPUTS, type PredictParams } from "./predict.js";
import { SubmissionWriter, assignNames } from "./submission.js";
import { chooseThreshold, readThresholdFile } from "./threshold-file.js";

export async function runPredict(ctx: StageContext<PredictParams>): Promise<StageOutcome> {
  const started = performance.now();
  const { params } = ctx;
  const modelDir = ctx.inputs["model"];
  if (modelDir === undefined) throw new Error("predict: input `model` is not connected");
  const tensorsDir = ctx.inputs["tensors"];
  if (tensorsDir === undefined && params.images === undefined) {
    throw new Error("predict: nothing to predict; connect the `tensors` input (a resize stage's tensors) or set params.images to a folder of images");
  }

  const shards: TensorShards | null = tensorsDir === undefined ? null : await openTensorShards(tensorsDir);
  const items: TensorItem[] = shards === null ? [] : itemsToInfer(shards, params.split);
  const images = params.images === undefined ? [] : await imagesIn(path.resolve(ctx.baseDir, params.images));
  if (items.length + images.length === 0) {
    throw new Error(`predict: the ${params.split} split of ${tensorsDir ?? "the tensors"} has no original images to predict; choose another split`);
  }

  const thresholdInput = ctx.inputs["threshold"];
  const fromFile = thresholdInput === undefined ? undefined : (await readThresholdFile(thresholdInput)).threshold;

  const backend = await initBackend(ctx.runtime.backend as BackendRequest, { purpose: "infer", threads: ctx.runtime.threads, log: ctx.log });
  ctx.log(`backend: ${backend.name} (${backend.detail})`);
  const { model, metadata } = await loadInferenceModel(modelDir, ctx.log);
  const problems = new InputProblems();
  let written = 0;
  let groundTruths = 0;
  let threshold: number;
  try {
    const chosen = chooseThreshold({ given: params.threshold, file: fromFile, model: metadata.threshold }, FALLBACK_THRESHOLD);
    threshold = chosen.threshold;
    ctx.log(
      chosen.source === "fallback"
        ? `threshold ${threshold}: the model has none and none was given (connect a threshold stage's \`model\` or set params.threshold)`
        : `threshold ${threshold} (from ${chosen.source === "given" ? "params.threshold" : chosen.source === "model" ? "the model's metadata" : "the threshold input"})`,
    );

    const plan = [...items.map(tensorNameSource), ...images.map((image) => ({ id: image.id, nameSource: image.file }))];
    const names = assignNames(plan);
    const tensorNames = new Map(items.map((item, i) => [item.id, names[i] as string]));
    const imageNames = new Map(images.map((image, i) => [image.id, names[items.length + i] as string]));

    const overlaysDir = path.join(ctx.outDir, PREDICT_OUTPUTS.overlays);
    await mkdir(overlaysDir, { recursive: true });
    const writer = await SubmissionWriter.create(path.join(ctx.outDir, PREDICT_OUTPUTS.submission), { threshold, overlaysDir: params.overlays ? overlaysDir : null });
    const total = items.length + images.length;
    let done = 0;
    const options = {
      model,
      inputSize: metadata.inputSize,
      scaling: metadata.inputScaling,
      batchSize: params.batch_size,
      signal: ctx.signal,
      problems,
      onImage: () => ctx.progress({ current: ++done, total, unit: "images" }),
    };
    ctx.progress({ current: 0, total, unit: "images" });
    if (shards !== null && items.length > 0) {
      ctx.log(`predicting ${items.length} ${params.split} images of ${shards.dir}`);
      const { withoutEncoding } = await predictSplitInto(writer, shards, params.split, tensorNames, options, ctx.baseDir);
      if (withoutEncoding > 0) {
        ctx.log(`warning: ${withoutEncoding} items have no mask encoding (tensors written before resize v2): no GroundTruth for them; rerun resize`);
      }
    }
    if (images.length > 0) {
      ctx.log(`predicting ${images.length} images of ${params.images ?? ""} (${params.kernel})`);
      await predictFilesInto(writer, images, imageNames, params.kernel, options);
    }
    if (problems.count > 0) throw problems.toError("predict");
    await writer.finish();
    written = writer.count;
    groundTruths = writer.groundTruthCount;
  } finally {
    model.dispose();
  }

  const seconds = (performance.now() - started) / 1000;
  ctx.log(`wrote ${written} predictions (${groundTruths} with ground truth) in ${seconds.toFixed(1)} s`);
  return {
    metrics: {
      images: written,
      ground_truth: groundTruths,
      threshold,
      seconds: round(seconds, 3),
      images_per_second: round(written / Math.max(seconds, 1e-9), 2),
    },
    environment: backendEnvironment(backend),
  };
}

async function imagesIn(folder: string): Promise<ImageFile[]> {
  try {
    return imageFiles(await findImages([folder], folder), folder);
  } catch (error) {
    if (error instanceof NoImagesError) throw new Error(`predict: params.images: ${error.message}`);
    if (error instanceof InputFileError) throw new Error(`predict: params.images: ${error.message}`);
    throw error;
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
