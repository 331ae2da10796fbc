/**
 * An export checks itself: the exported file and the TF.js model it came from predict the
 * same test images, and F1 (see F1_METHOD), the probability difference and the file size
 * are compared. The check fails when F1 drops by more than the tolerance.
 */
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tf from "@tensorflow/tfjs";

import { countConfusion, f1Of, sumConfusion, type Confusion } from "../../eval/confusion.js";
import type { ModelMetadata } from "../../model/model-folder.js";
import { predictProbabilities } from "../../predict/infer.js";
import { binarise, probabilityLevels } from "../../predict/probability.js";
import { CHECK_FILE_VERSION, F1_METHOD, checkFileOf, type ExportCheckFile } from "./check-file.js";
import type { PixelPredictor } from "./runners.js";
import type { SplitImages } from "./split-images.js";

export const DEFAULT_TOLERANCE = 0.01;
/** Threshold for a model without one (no threshold stage ran). */
export const NEUTRAL_THRESHOLD = 0.5;
const TFJS_BATCH = 8;

export interface SelfCheckOptions {
  readonly file: string;
  readonly format: string;
  readonly quantize: string;
  /** The TF.js model the file was exported from, and its metadata. */
  readonly model: tf.LayersModel;
  readonly metadata: ModelMetadata;
  readonly predictor: PixelPredictor;
  readonly test: SplitImages;
  readonly tolerance: number;
  /** Size of the TF.js model's weights.bin. */
  readonly tfjsWeightsBytes: number;
}

/** Runs the check and writes `<file>.check.json`; returns what it wrote. */
export async function selfCheck(options: SelfCheckOptions): Promise<ExportCheckFile> {
  const { test, metadata } = options;
  const reference = await tfjsProbabilities(options.model, test, metadata);
  const exported = await options.predictor.predict(test.pixels, test.count, test.size);
  const threshold = metadata.threshold ?? NEUTRAL_THRESHOLD;
  const comparison = compareProbabilities(reference, exported.probabilities, test.masks, threshold);
  const drop = comparison.f1Reference - comparison.f1Exported;
  const passed = drop <= options.tolerance;
  const check: ExportCheckFile = {
    version: CHECK_FILE_VERSION,
    file: path.basename(options.file),
    format: options.format,
    quantize: options.quantize,
    bytes: (await stat(options.file)).size,
    tfjsWeightsBytes: options.tfjsWeightsBytes,
    split: "test",
    images: test.count,
    threshold,
    f1Method: F1_METHOD,
    f1: { tfjs: round(comparison.f1Reference), exported: round(comparison.f1Exported), drop: round(drop) },
    probabilityDifference: { max: round(comparison.maxDifference), mean: round(comparison.meanDifference) },
    maskDisagreements: comparison.maskDisagreements,
    latencyMs: exported.medianMs === null ? null : Math.round(exported.medianMs * 100) / 100,
    tolerance: options.tolerance,
    passed,
    note: passed
      ? null
      : `F1 drops by ${drop.toFixed(4)} (${comparison.f1Reference.toFixed(4)} -> ${comparison.f1Exported.toFixed(4)}), more than the tolerance ${options.tolerance}; the file is kept for inspection but should not ship`,
  };
  await writeFile(checkFileOf(options.file), `${JSON.stringify(check, null, 2)}\n`);
  return check;
}

export interface Comparison {
  readonly f1Reference: number;
  readonly f1Exported: number;
  readonly maxDifference: number;
  readonly meanDifference: number;
  readonly maskDisagreements: number;
}

/** F1 of both probability maps against `masks` at `threshold`, and how the maps differ. */
export function compareProbabilities(reference: Float32Array, exported: Float32Array, masks: Uint8Array, threshold: number): Comparison {
  if (reference.length !== exported.length || reference.length !== masks.length) {
    throw new RangeError(`probability maps and masks differ in size: ${reference.length}, ${exported.length}, ${masks.length} pixels`);
  }
  const referenceMask = binarise(probabilityLevels(reference), threshold);
  const exportedMask = binarise(probabilityLevels(exported), threshold);
  let maxDifference = 0;
  let sum = 0;
  let maskDisagreements = 0;
  for (let i = 0; i < reference.length; i++) {
    const difference = Math.abs((reference[i] as number) - (exported[i] as number));
    sum += difference;
    if (difference > maxDifference) maxDifference = difference;
    if (referenceMask[i] !== exportedMask[i]) maskDisagreements += 1;
  }
  const pooled = (predicted: Uint8Array): Confusion => sumConfusion([countConfusion(masks, predicted)]);
  return {
    f1Reference: f1Of(pooled(referenceMask)),
    f1Exported: f1Of(pooled(exportedMask)),
    maxDifference,
    meanDifference: reference.length === 0 ? 0 : sum / reference.length,
    maskDisagreements,
  };
}

async function tfjsProbabilities(model: tf.LayersModel, test: SplitImages, metadata: ModelMetadata): Promise<Float32Array> {
  const pixels = test.size * test.size;
  const out = new Float32Array(test.count * pixels);
  for (let start = 0; start < test.count; start += TFJS_BATCH) {
    const count = Math.min(TFJS_BATCH, test.count - start);
    const images = test.pixels.subarray(start * pixels * 3, (start + count) * pixels * 3);
    out.set(await predictProbabilities(model, images, count, test.size, metadata.inputScaling), start * pixels);
  }
  return out;
}

/** Six significant digits: enough for F1, and a 1e-7 difference does not become 0. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}
