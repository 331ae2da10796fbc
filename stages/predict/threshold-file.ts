/**
 * How a chosen threshold travels: `threshold.json` (the `threshold` stage's record of
 * the sweep) and a copy of the model folder with the threshold in its `mu-model.json`.
 *
 * The model copy is what downstream use should take: one folder holds everything
 * needed to predict (`predict`'s `model` input, `mu-pipe predict --model`, an export),
 * so the model and its threshold cannot be paired wrongly. `threshold.json` stays the
 * readable record and can still override a model's own threshold (predict's
 * `threshold` input).
 */
import { cp, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import type { Split } from "../data/dataset-manifest.js";
import { METADATA_JSON, ModelFolderError, metadataProblem, type ModelMetadata } from "../model/model-folder.js";
import { TTA_MODES, isTta, type Tta } from "../model/tta.js";

export const THRESHOLD_FILE = "threshold.json";
export const THRESHOLD_FILE_VERSION = 1;

/** `threshold.json`. */
export interface ThresholdFile {
  readonly version: typeof THRESHOLD_FILE_VERSION;
  /** The threshold of best F1: a pixel is sclera when round(p * 255) / 255 >= it. */
  readonly threshold: number;
  /** Pooled F1, precision and recall at that threshold. */
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
  /** The split swept, and how many of its images were pooled. */
  readonly split: Split;
  readonly images: number;
  /** The attribute subset pooled (the stage's `where`, values as lists); absent: every item of the split. */
  readonly where?: Readonly<Record<string, readonly string[]>>;
  /** The test-time augmentation the maps were made with; absent: none was asked for (no TTA). */
  readonly tta?: Tta;
}

/** Reads `threshold.json`, given the file or the folder holding it. */
export async function readThresholdFile(fileOrDir: string): Promise<ThresholdFile> {
  const info = await stat(fileOrDir).catch(() => null);
  if (info === null) throw new Error(`${fileOrDir}: no such file or folder`);
  const file = info.isDirectory() ? path.join(fileOrDir, THRESHOLD_FILE) : fileOrDir;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: not a readable ${THRESHOLD_FILE} (${error instanceof Error ? error.message : String(error)})`);
  }
  const value = parsed as Partial<ThresholdFile> | null;
  if (value === null || typeof value !== "object" || value.version !== THRESHOLD_FILE_VERSION) {
    throw new Error(`${file}: expected a ${THRESHOLD_FILE} of version ${THRESHOLD_FILE_VERSION} (written by a threshold stage)`);
  }
  if (typeof value.threshold !== "number" || !(value.threshold >= 0 && value.threshold <= 1)) {
    throw new Error(`${file}: threshold must be a number in [0, 1], got ${JSON.stringify(value.threshold)}`);
  }
  if (value.tta !== undefined && !isTta(value.tta)) throw new Error(`${file}: tta must be one of ${TTA_MODES.join(", ")}, got ${JSON.stringify(value.tta)}`);
  return value as ThresholdFile;
}

/**
 * Copies the model folder `source` to `dest` (byte for byte) and sets `threshold` (and
 * the `tta` it was chosen with, when one was asked for) in the copy's `mu-model.json`;
 * every other metadata field is kept.
 */
export async function copyModelWithThreshold(source: string, dest: string, metadata: ModelMetadata, threshold: number, tta?: Tta): Promise<ModelMetadata> {
  await cp(source, dest, { recursive: true, dereference: true });
  const { tta: _earlier, ...rest } = metadata;
  const updated: ModelMetadata = tta === undefined ? { ...rest, threshold } : { ...rest, threshold, tta };
  const problem = metadataProblem(updated);
  if (problem !== undefined) throw new ModelFolderError(dest, `invalid metadata: ${problem}`);
  await writeFile(path.join(dest, METADATA_JSON), `${JSON.stringify(updated, null, 2)}\n`);
  return updated;
}

export type ThresholdSource = "given" | "threshold-file" | "model" | "fallback";

/** The first threshold present: given (a param or option), a threshold.json, the model's; else `fallback`. */
export function chooseThreshold(
  candidates: { readonly given?: number; readonly file?: number; readonly model: number | null },
  fallback: number,
): { threshold: number; source: ThresholdSource } {
  if (candidates.given !== undefined) return { threshold: candidates.given, source: "given" };
  if (candidates.file !== undefined) return { threshold: candidates.file, source: "threshold-file" };
  if (candidates.model !== null) return { threshold: candidates.model, source: "model" };
  return { threshold: fallback, source: "fallback" };
}

/** The TTA to predict with, and whether it differs from the one the threshold was chosen with. */
export interface TtaChoice {
  readonly tta: Tta;
  /** The TTA the threshold in use was chosen with (absent in its record: none); null for a threshold not chosen by a sweep. */
  readonly recorded: Tta | null;
  /** Whether `tta` was asked for (a param or option) rather than followed from the record. */
  readonly given: boolean;
}

/**
 * An explicit `given` TTA wins; else the one recorded beside the threshold in use (a
 * threshold.json's, or the model's metadata), so the maps binarised are of the kind
 * the threshold was swept on; else none.
 */
export function chooseTta(given: Tta | undefined, source: ThresholdSource, recorded: { readonly file?: Tta; readonly model?: Tta }): TtaChoice {
  const withThreshold = source === "threshold-file" ? (recorded.file ?? "none") : source === "model" ? (recorded.model ?? "none") : null;
  if (given !== undefined) return { tta: given, recorded: withThreshold, given: true };
  return { tta: withThreshold ?? "none", recorded: withThreshold, given: false };
}
