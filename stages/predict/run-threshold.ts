/**
 * The `threshold` stage's work, loaded only when it runs.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import type { StageContext, StageOutcome } from "../../pipeline/stage.js";
import { openTensorShards } from "../data/tensor-shards.js";
import { accumulateHistograms, emptyHistograms } from "../eval/histogram.js";
import { CURVE_END, scoreProbabilities } from "../eval/pr-curve.js";
import { sweepThresholds, type SweepPoint } from "../eval/threshold-sweep.js";
import { backendEnvironment, initBackend, type BackendRequest } from "../runtime/backend.js";
import { describeTta } from "../model/tta.js";
import { inferSplit, itemsToInfer } from "./infer.js";
import { describeWhere, matchesWhere, noMatchMessage, whereLists } from "./item-where.js";
import { loadInferenceModel } from "./inference-model.js";
import { probabilityLevels } from "./probability.js";
import { THRESHOLD_OUTPUTS, type ThresholdParams } from "./threshold-params.js";
import { THRESHOLD_FILE_VERSION, copyModelWithThreshold, type ThresholdFile } from "./threshold-file.js";

export async function runThreshold(ctx: StageContext<ThresholdParams>): Promise<StageOutcome> {
  const started = performance.now();
  const { params } = ctx;
  const modelDir = ctx.inputs["model"];
  const tensorsDir = ctx.inputs["tensors"];
  if (modelDir === undefined) throw new Error("threshold: input `model` is not connected");
  if (tensorsDir === undefined) throw new Error("threshold: input `tensors` is not connected");

  const shards = await openTensorShards(tensorsDir);
  const ofSplit = itemsToInfer(shards, params.split, params.include_augmented);
  if (ofSplit.length === 0) {
    const counts = Object.entries(shards.manifest.splits).map(([split, s]) => `${split} ${s.count}`).join(", ");
    throw new Error(`threshold: the ${params.split} split of ${tensorsDir} has no ${params.include_augmented ? "" : "original "}images to sweep over (items: ${counts}); choose another split`);
  }
  const select = params.where === undefined ? undefined : matchesWhere(params.where);
  const items = select === undefined ? ofSplit : ofSplit.filter(select);
  if (params.where !== undefined && items.length === 0) {
    const what = `${params.include_augmented ? "" : "original "}${params.split} image`;
    throw new Error(`threshold: params.where: ${noMatchMessage(params.where, ofSplit, what)}; change params.where (or params.split)`);
  }
  const tta = params.tta ?? "none";
  const subset = params.where === undefined ? "" : ` with ${describeWhere(params.where)}`;

  const backend = await initBackend(ctx.runtime.backend as BackendRequest, { purpose: "infer", threads: ctx.runtime.threads, log: ctx.log });
  ctx.log(`backend: ${backend.name} (${backend.detail})`);
  const { model, metadata } = await loadInferenceModel(modelDir, ctx.log);
  const histograms = emptyHistograms();
  try {
    ctx.log(`predicting ${items.length} ${params.split} images${subset} (${shards.manifest.size}x${shards.manifest.size}, batches of ${params.batch_size}, ${describeTta(tta)})`);
    const predictions = inferSplit(model, shards, params.split, {
      batchSize: params.batch_size,
      scaling: metadata.inputScaling,
      includeAugmented: params.include_augmented,
      select,
      tta,
      signal: ctx.signal,
      onProgress: (current, total) => ctx.progress({ current, total, unit: "images" }),
    });
    for await (const { probability, mask } of predictions) accumulateHistograms(mask, probabilityLevels(probability), histograms);
  } finally {
    model.dispose();
  }

  const sweep = sweepThresholds(histograms.positives, histograms.negatives, params.step);
  const { best } = sweep;
  const pr = scoreProbabilities(histograms);
  if (best.f1 === 0) ctx.log(`warning: F1 is 0 at every threshold (the model finds no sclera on the ${params.split} images${subset}); keeping ${best.threshold}`);
  ctx.log(`best threshold ${best.threshold}: F1 ${best.f1.toFixed(4)}, precision ${best.precision.toFixed(4)}, recall ${best.recall.toFixed(4)} over ${items.length} images${subset}`);

  await mkdir(ctx.outDir, { recursive: true });
  const record: ThresholdFile = {
    version: THRESHOLD_FILE_VERSION,
    threshold: best.threshold,
    f1: best.f1,
    precision: best.precision,
    recall: best.recall,
    split: params.split,
    images: items.length,
    // Recorded only when asked for, so a config without them writes what it always did.
    ...(params.where === undefined ? {} : { where: whereLists(params.where) }),
    ...(params.tta === undefined ? {} : { tta: params.tta }),
  };
  await writeFile(path.join(ctx.outDir, THRESHOLD_OUTPUTS.threshold), `${JSON.stringify(record, null, 2)}\n`);
  await writeFile(path.join(ctx.outDir, THRESHOLD_OUTPUTS.curve), curveCsv(sweep.curve));
  await writeFile(path.join(ctx.outDir, THRESHOLD_OUTPUTS.pr), prCsv([...pr.curve, CURVE_END]));
  await copyModelWithThreshold(modelDir, path.join(ctx.outDir, THRESHOLD_OUTPUTS.model), metadata, best.threshold, params.tta);

  const seconds = (performance.now() - started) / 1000;
  return {
    metrics: {
      threshold: best.threshold,
      f1: round(best.f1, 6),
      precision: round(best.precision, 6),
      recall: round(best.recall, 6),
      pr_auc: round(pr.prAuc, 6),
      images: items.length,
      seconds: round(seconds, 3),
    },
    environment: backendEnvironment(backend),
  };
}

export function curveCsv(curve: readonly SweepPoint[]): string {
  const rows = curve.map((p) => [p.threshold, round(p.precision, 6), round(p.recall, 6), round(p.f1, 6)].join(","));
  return `threshold,precision,recall,f1\n${rows.join("\n")}\n`;
}

/** Points in the order given (ascending threshold, so descending recall). */
export function prCsv(points: readonly { readonly recall: number; readonly precision: number }[]): string {
  const rows = points.map((p) => `${round(p.recall, 6)},${round(p.precision, 6)}`);
  return `recall,precision\n${rows.join("\n")}\n`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
