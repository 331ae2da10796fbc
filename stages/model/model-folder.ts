/**
 * A trained model on disk: a TF.js LayersModel folder (`model.json` + `weights.bin`, what
 * `tf.loadLayersModel` reads in a browser) plus `mu-model.json`, our metadata. The pure
 * `@tensorflow/tfjs` package has no file:// handler, so these IOHandlers use node's fs.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { KerasWeights } from "./keras-h5.js";
import { INPUT_SCALINGS, type InputScaling } from "./input-scaling.js";
import { TTA_MODES, isTta, type Tta } from "./tta.js";

import { METADATA_JSON, MODEL_JSON, WEIGHTS_BIN } from "./model-files.js";

export { METADATA_JSON, MODEL_JSON, WEIGHTS_BIN } from "./model-files.js";

/** `mu-model.json`: how the model in the folder was built and is to be fed. */
export interface ModelMetadata {
  version: 1;
  format: "mu-pipe-model";
  /** MobileNetV2 width multiplier of the encoder. */
  alpha: number;
  /** Square input size in pixels. */
  inputSize: number;
  /** Decoder stage filters, deepest first. */
  decoderFilters: number[];
  /** How 0..255 pixels are scaled before the model sees them. */
  inputScaling: InputScaling;
  /** Binarisation threshold chosen for the model, or null if none was chosen yet. */
  threshold: number | null;
  /**
   * The test-time augmentation the threshold was chosen with (tta.ts); predicting
   * follows it unless told otherwise. Absent: none was asked for (no TTA).
   */
  tta?: Tta;
  /** What wrote the folder, e.g. "mu-pipe 0.1.0". */
  createdBy: string;
}

/** A folder that is not a (complete) model folder, naming the folder and what is wrong. */
export class ModelFolderError extends Error {
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(`${dir}: ${problem}`);
    this.name = "ModelFolderError";
  }
}

/**
 * Writes `model` as `model.json` + `weights.bin` and `metadata` as `mu-model.json` into `dir`
 * (created if needed). Each file is written under a temporary name and renamed; `mu-model.json`
 * comes last, so a folder with it is complete.
 */
export async function saveModelFolder(model: tf.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  const problem = metadataProblem(metadata);
  if (problem !== undefined) throw new ModelFolderError(dir, `invalid metadata: ${problem}`);
  await mkdir(dir, { recursive: true });
  await model.save(fileSaveHandler(dir));
  await writeAtomically(path.join(dir, METADATA_JSON), `${JSON.stringify(metadata, null, 2)}\n`);
}

/** Loads a folder written by `saveModelFolder`. */
export async function loadModelFolder(dir: string): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  requireDir(dir);
  const metadataFile = path.join(dir, METADATA_JSON);
  if (!existsSync(metadataFile)) throw new ModelFolderError(dir, `not a mu-pipe model folder: no ${METADATA_JSON}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(metadataFile, "utf8"));
  } catch (error) {
    throw new ModelFolderError(dir, `${METADATA_JSON} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const problem = metadataProblem(parsed);
  if (problem !== undefined) throw new ModelFolderError(dir, `${METADATA_JSON}: ${problem}`);
  const metadata = parsed as ModelMetadata;
  const model = await loadLayersModelFolder(dir);
  const [, height, width] = model.inputs[0]?.shape ?? [];
  if (height !== metadata.inputSize || width !== metadata.inputSize) {
    model.dispose();
    throw new ModelFolderError(dir, `${METADATA_JSON} says inputSize ${metadata.inputSize}, but ${MODEL_JSON} takes ${String(height)}x${String(width)} inputs`);
  }
  return { model, metadata };
}

/** Loads a plain TF.js LayersModel folder (`model.json` + the shards its manifest names), or a `model.json` path. */
export async function loadLayersModelFolder(dirOrModelJson: string): Promise<tf.LayersModel> {
  const isJsonFile = dirOrModelJson.endsWith(".json") && existsSync(dirOrModelJson) && statSync(dirOrModelJson).isFile();
  const dir = isJsonFile ? path.dirname(dirOrModelJson) : dirOrModelJson;
  const modelJsonFile = isJsonFile ? dirOrModelJson : path.join(dir, MODEL_JSON);
  if (!isJsonFile) requireDir(dir);
  if (!existsSync(modelJsonFile)) throw new ModelFolderError(dir, `not a TF.js LayersModel folder: no ${path.basename(modelJsonFile)}`);
  return tf.loadLayersModel(fileLoadHandler(dir, modelJsonFile));
}

/** An IOHandler that saves `model.json` + `weights.bin` into `dir`. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const topology = artifacts.modelTopology;
      if (topology === undefined || topology instanceof ArrayBuffer) throw new ModelFolderError(dir, "can only save a model with a JSON (LayersModel) topology");
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: topology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeAtomically(path.join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
      await writeAtomically(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weightData.byteLength,
        },
      };
    },
  };
}

/** An IOHandler that loads `modelJsonFile` and the weight shards its manifest lists (relative to `dir`). */
export function fileLoadHandler(dir: string, modelJsonFile = path.join(dir, MODEL_JSON)): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(modelJsonFile, "utf8")) as tf.io.ModelJSON;
      } catch (error) {
        throw new ModelFolderError(dir, `${path.basename(modelJsonFile)} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
      }
      if (typeof modelJson !== "object" || modelJson === null || modelJson.modelTopology === undefined) {
        throw new ModelFolderError(dir, `${path.basename(modelJsonFile)} has no modelTopology; it is not a TF.js model`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const shard of group.paths) {
            const file = path.resolve(dir, shard);
            if (path.relative(path.resolve(dir), file).startsWith("..")) throw new ModelFolderError(dir, `weight shard ${shard} lies outside the folder`);
            if (!existsSync(file)) throw new ModelFolderError(dir, `weight shard ${shard} named in ${path.basename(modelJsonFile)} is missing`);
            const bytes = await readFile(file);
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Why `value` is not a valid `ModelMetadata`, or undefined. */
export function metadataProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected an object";
  const m = value as Record<string, unknown>;
  if (m.format !== "mu-pipe-model") return `format is ${JSON.stringify(m.format)}, expected "mu-pipe-model"`;
  if (m.version !== 1) return `version is ${JSON.stringify(m.version)}, this mu-pipe reads version 1`;
  if (typeof m.alpha !== "number" || !(m.alpha > 0)) return `alpha must be a positive number, got ${JSON.stringify(m.alpha)}`;
  if (typeof m.inputSize !== "number" || !Number.isInteger(m.inputSize) || m.inputSize <= 0) return `inputSize must be a positive integer, got ${JSON.stringify(m.inputSize)}`;
  if (!Array.isArray(m.decoderFilters) || !m.decoderFilters.every((f) => Number.isInteger(f) && (f as number) > 0)) {
    return `decoderFilters must be a list of positive integers, got ${JSON.stringify(m.decoderFilters)}`;
  }
  if (!(INPUT_SCALINGS as readonly unknown[]).includes(m.inputScaling)) return `inputScaling must be one of ${INPUT_SCALINGS.join(", ")}, got ${JSON.stringify(m.inputScaling)}`;
  if (m.threshold !== null && (typeof m.threshold !== "number" || !(m.threshold >= 0 && m.threshold <= 1))) {
    return `threshold must be a number in [0, 1] or null, got ${JSON.stringify(m.threshold)}`;
  }
  if (m.tta !== undefined && !isTta(m.tta)) return `tta must be one of ${TTA_MODES.join(", ")} when present, got ${JSON.stringify(m.tta)}`;
  if (typeof m.createdBy !== "string") return `createdBy must be a string, got ${JSON.stringify(m.createdBy)}`;
  return undefined;
}

function requireDir(dir: string): void {
  if (!existsSync(dir)) throw new ModelFolderError(dir, "no such folder");
  if (!statSync(dir).isDirectory()) throw new ModelFolderError(dir, "not a folder");
}

async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * A TF.js LayersModel's weights in the shape `readKerasWeights` returns, so
 * `applyKerasWeights` can load them by layer name with the same checks and messages.
 */
export function layersModelWeights(model: tf.LayersModel): KerasWeights {
  const weights: KerasWeights = new Map();
  for (const layer of model.layers) {
    weights.set(
      layer.name,
      layer.weights.map((w) => ({ name: `${layer.name}/${w.originalName.split("/").pop() ?? w.name}`, shape: w.shape.map((d) => d ?? 0), values: w.read().dataSync() as Float32Array })),
    );
  }
  return weights;
}
