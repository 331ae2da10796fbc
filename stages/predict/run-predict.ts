/**
 * The `predict` stage's work, loaded only when it runs.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";

import type { StageContext, StageOutcome } from "../../pipeline/stage.js";
import { InputFileError, InputProblems } from "../data/input-problems.js";
import { openTensorShards, type TensorItem, type TensorShards } from "../data/tensor-shards.js";
import { backendEnvironment, type BackendRequest } from "../runtime/backend.js";
import { findImages, NoImagesError } from "./image-input.js";
import { itemsToInfer } from "./infer.js";
import { imageFiles, type ImageFile } from "./predict-images.js";
import { PREDICT_OUTPUTS, type PredictParams } from "./predict-params.js";
import { predictSubmission } from "./predict-submission.js";
import { describeTta } from "../model/tta.js";
import { readThresholdFile, type TtaChoice } from "./threshold-file.js";

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
  const fromFile = thresholdInput === undefined ? undefined : await readThresholdFile(thresholdInput);

  const overlaysDir = path.join(ctx.outDir, PREDICT_OUTPUTS.overlays);
  await mkdir(overlaysDir, { recursive: true });
  const result = await predictSubmission({
    modelDir,
    tensors: shards === null ? null : { shards, split: params.split, items, baseDir: ctx.baseDir },
    images,
    kernel: params.kernel,
    batchSize: params.batch_size,
    submissionDir: path.join(ctx.outDir, PREDICT_OUTPUTS.submission),
    overlaysDir: params.overlays ? overlaysDir : null,
    threshold: { given: params.threshold, file: fromFile?.threshold, fileTta: fromFile?.tta },
    tta: params.tta,
    backend: ctx.runtime.backend as BackendRequest,
    threads: ctx.runtime.threads,
    signal: ctx.signal,
    log: ctx.log,
    onReady: ({ backend, threshold, thresholdSource, tta }) => {
      ctx.log(`backend: ${backend.name} (${backend.detail})`);
      ctx.log(
        thresholdSource === "fallback"
          ? `threshold ${threshold}: the model has none and none was given (connect a threshold stage's \`model\` or set params.threshold)`
          : `threshold ${threshold} (from ${thresholdSource === "given" ? "params.threshold" : thresholdSource === "model" ? "the model's metadata" : "the threshold input"})`,
      );
      ctx.log(ttaLine(tta));
      if (shards !== null && items.length > 0) ctx.log(`predicting ${items.length} ${params.split} images of ${shards.dir}`);
      if (images.length > 0) ctx.log(`predicting ${images.length} images of ${params.images ?? ""} (${params.kernel})`);
      ctx.progress({ current: 0, total: items.length + images.length, unit: "images" });
    },
    onProgress: (current, total) => ctx.progress({ current, total, unit: "images" }),
  });
  if (result.withoutEncoding > 0) {
    ctx.log(`warning: ${result.withoutEncoding} items have no mask encoding (tensors written before resize v2): no GroundTruth for them; rerun resize`);
  }
  if (result.problems.length > 0) {
    const problems = new InputProblems();
    for (const problem of result.problems) problems.add(problem);
    throw problems.toError("predict");
  }
  const { written, groundTruths, threshold, backend } = result;

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

/** What TTA the maps get and why; a warning when it is not the one the threshold was swept with. */
function ttaLine({ tta, recorded, given }: TtaChoice): string {
  if (given && recorded !== null && recorded !== tta) {
    return `warning: params.tta ${tta} differs from the threshold's (chosen with tta ${recorded}); the maps it binarises are not of the kind it was swept on`;
  }
  const why = given ? "params.tta" : recorded === null ? "no threshold sweep recorded one" : "as the threshold was chosen";
  return `${describeTta(tta)} (${why})`;
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
