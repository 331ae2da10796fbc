/**
 * Predicting into a submission folder: the items of a tensors split, or image files.
 * The `predict` stage uses both; `mu-pipe predict` uses files.
 *
 * Names are planned over everything first (`assignNames` needs to see every item to
 * settle collisions), then images are predicted a batch at a time and written. An
 * image that cannot be read is recorded in `problems` and skipped, so one run names
 * every bad file; the caller decides to fail.
 */
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";

import type { Split } from "../data/dataset-manifest.js";
import { InputFileError, type InputProblems } from "../data/input-problems.js";
import type { ImageKernel } from "../data/materialise.js";
import { IMAGE_CHANNELS, itemSourceFiles, maskEncodingOf, type TensorItem, type TensorShards } from "../data/tensor-shards.js";
import type { InputScaling } from "../model/input-scaling.js";
import type { Tta } from "../model/tta.js";
import { checkModelInputSize, inferSplit, predictProbabilities } from "./infer.js";
import { readImageForModel, type ModelImage } from "./image-input.js";
import type { SubmissionWriter } from "./submission.js";

export interface PredictOptions {
  readonly model: tf.LayersModel;
  readonly inputSize: number;
  readonly scaling: InputScaling;
  readonly batchSize: number;
  /** Test-time augmentation of every map. */
  readonly tta: Tta;
  readonly signal?: AbortSignal;
  /** Called after each written image. */
  readonly onImage?: () => void;
  readonly problems: InputProblems;
}

/** An image file to predict: its id in predictions.json and the file. */
export interface ImageFile {
  readonly id: string;
  readonly file: string;
}

/** Ids for image files: their paths relative to `baseDir`, `/`-separated (unique as the paths are). */
export function imageFiles(files: readonly string[], baseDir: string): ImageFile[] {
  return files.map((file) => {
    const relative = path.relative(baseDir, file);
    const id = relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
    return { id: id.split(path.sep).join("/"), file };
  });
}

/** Where an item's submission name comes from: the ground truth's file. */
export function tensorNameSource(item: TensorItem): { id: string; nameSource: string } {
  return { id: item.id, nameSource: item.mask };
}

/** Predicts the items of `split` (originals only) and writes them; returns how many lacked a known mask encoding. */
export async function predictSplitInto(
  writer: SubmissionWriter,
  shards: TensorShards,
  split: Split,
  names: ReadonlyMap<string, string>,
  options: PredictOptions,
  /** The experiment file's folder, against which the items' source files resolve. */
  baseDir: string,
): Promise<{ withoutEncoding: number }> {
  let withoutEncoding = 0;
  const predictions = inferSplit(options.model, shards, split, { batchSize: options.batchSize, scaling: options.scaling, tta: options.tta, signal: options.signal });
  for await (const { item, probability } of predictions) {
    const encoding = maskEncodingOf(item);
    if (encoding === null) withoutEncoding++;
    const sources = itemSourceFiles(item, shards.dir, baseDir);
    try {
      await writer.write({
        id: item.id,
        name: nameOf(names, item.id),
        split: item.split,
        subject: item.subject,
        attributes: item.attributes,
        probability,
        mapSize: shards.manifest.size,
        originalWidth: item.originalWidth,
        originalHeight: item.originalHeight,
        image: sources.image,
        groundTruth: encoding === null ? null : { file: sources.mask, encoding },
      });
    } catch (error) {
      if (!(error instanceof InputFileError)) throw error;
      options.problems.add(error);
    }
    options.onImage?.();
  }
  return { withoutEncoding };
}

/** Reads, predicts and writes image files (no ground truth), a batch at a time. */
export async function predictFilesInto(
  writer: SubmissionWriter,
  images: readonly ImageFile[],
  names: ReadonlyMap<string, string>,
  kernel: ImageKernel,
  options: PredictOptions,
): Promise<void> {
  const size = options.inputSize;
  checkModelInputSize(options.model, size, "its metadata's input size");
  const pixels = size * size;
  for (let start = 0; start < images.length; start += options.batchSize) {
    options.signal?.throwIfAborted();
    const batch = images.slice(start, start + options.batchSize);
    const decoded = await Promise.all(
      batch.map(async (image) => {
        try {
          return { image, pixels: await readImageForModel(image.file, size, kernel) };
        } catch (error) {
          if (!(error instanceof InputFileError)) throw error;
          options.problems.add(error);
          options.onImage?.();
          return null;
        }
      }),
    );
    const readable = decoded.filter((d): d is { image: ImageFile; pixels: ModelImage } => d !== null);
    if (readable.length === 0) continue;
    const bytes = new Uint8Array(readable.length * pixels * IMAGE_CHANNELS);
    readable.forEach((d, i) => bytes.set(d.pixels.pixels, i * pixels * IMAGE_CHANNELS));
    const probabilities = await predictProbabilities(options.model, bytes, readable.length, size, options.scaling, options.tta);
    for (const [i, { image, pixels: decodedImage }] of readable.entries()) {
      try {
        await writer.write({
          id: image.id,
          name: nameOf(names, image.id),
          split: null,
          subject: null,
          attributes: {},
          probability: probabilities.subarray(i * pixels, (i + 1) * pixels),
          mapSize: size,
          originalWidth: decodedImage.width,
          originalHeight: decodedImage.height,
          image: image.file,
          groundTruth: null,
        });
      } catch (error) {
        if (!(error instanceof InputFileError)) throw error;
        options.problems.add(error);
      }
      options.onImage?.();
    }
  }
}

function nameOf(names: ReadonlyMap<string, string>, id: string): string {
  const name = names.get(id);
  if (name === undefined) throw new Error(`no submission name was planned for ${id}`);
  return name;
}
