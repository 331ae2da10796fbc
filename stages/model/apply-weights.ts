/**
 * Copies weights read from a Keras HDF5 file into a tfjs LayersModel, matching layers by name.
 * tfjs keeps Keras' weight order and kernel layouts (Conv2D [kh, kw, in, out], DepthwiseConv2D
 * [kh, kw, in, 1], BatchNormalization gamma, beta, moving_mean, moving_variance), so values are
 * copied as they are. Everything is checked before any layer changes, so a failed call leaves
 * the model untouched.
 */
import * as tf from "@tensorflow/tfjs";
import { kerasWeightsSource, type KerasWeight, type KerasWeights } from "./keras-h5.js";

export interface ApplyKerasWeightsOptions {
  /** Which model layers to load; the rest are reported as skipped. Default: every layer with weights. */
  layers?: (name: string) => boolean;
  /** Skip model layers the file has no weights for instead of failing. Default false. */
  allowMissing?: boolean;
  /** The file the weights came from, for messages. Default: the file `readKerasWeights` read. */
  source?: string;
}

export interface ApplyKerasWeightsResult {
  /** Model layers whose weights were set from the file, in model order. */
  loaded: string[];
  /** Model layers with weights that were left as they were (filtered out, or missing with allowMissing). */
  skipped: string[];
}

/** A weights file that does not fit the model; the message names the layer and the difference. */
export class WeightsMismatchError extends Error {
  constructor(
    message: string,
    readonly layer: string,
  ) {
    super(message);
    this.name = "WeightsMismatchError";
  }
}

/** Sets the weights of `model`'s layers from `weights` by layer name. */
export function applyKerasWeights(model: tf.LayersModel, weights: KerasWeights, options: ApplyKerasWeightsOptions = {}): ApplyKerasWeightsResult {
  const source = options.source ?? kerasWeightsSource(weights) ?? "the weights file";
  const loaded: string[] = [];
  const skipped: string[] = [];
  const plan: { layer: tf.layers.Layer; values: KerasWeight[] }[] = [];

  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    if (options.layers !== undefined && !options.layers(layer.name)) {
      skipped.push(layer.name);
      continue;
    }
    const fileWeights = weights.get(layer.name);
    if (fileWeights === undefined || fileWeights.length === 0) {
      if (options.allowMissing === true) {
        skipped.push(layer.name);
        continue;
      }
      throw new WeightsMismatchError(`layer ${layer.name} has no weights in ${source}`, layer.name);
    }
    plan.push({ layer, values: matchWeights(layer, fileWeights, source) });
    loaded.push(layer.name);
  }

  for (const { layer, values } of plan) {
    const tensors = values.map((w) => tf.tensor(w.values, w.shape, "float32"));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
  return { loaded, skipped };
}

/** The file's weights in the model layer's order, checked for count and shapes. */
function matchWeights(layer: tf.layers.Layer, fileWeights: KerasWeight[], source: string): KerasWeight[] {
  const modelNames = layer.weights.map((w) => shortName(w.originalName));
  const fileNames = fileWeights.map((w) => shortName(w.name));
  if (fileWeights.length !== layer.weights.length) {
    throw new WeightsMismatchError(
      `layer ${layer.name}: ${source} has ${fileWeights.length} weights (${fileNames.join(", ")}), the model expects ${layer.weights.length} (${modelNames.join(", ")})`,
      layer.name,
    );
  }
  const ordered = byNameWhenPossible(modelNames, fileNames, fileWeights);
  ordered.forEach((fileWeight, i) => {
    const expected = layer.weights[i]?.shape ?? [];
    if (!sameShape(fileWeight.shape, expected)) {
      const hint = fileWeight.shape.length === expected.length ? " — is the file for another alpha?" : "";
      throw new WeightsMismatchError(
        `${layer.name}/${modelNames[i]}: file has [${fileWeight.shape.join(",")}], model expects [${expected.join(",")}]${hint}`,
        layer.name,
      );
    }
  });
  return ordered;
}

/** Reorders by weight name when both sides name the same set of weights; otherwise keeps file order. */
function byNameWhenPossible(modelNames: string[], fileNames: string[], fileWeights: KerasWeight[]): KerasWeight[] {
  const byName = new Map(fileNames.map((name, i) => [name, fileWeights[i]] as const));
  if (byName.size !== fileNames.length || new Set(modelNames).size !== modelNames.length) return fileWeights;
  const ordered = modelNames.map((name) => byName.get(name));
  return ordered.every((w): w is KerasWeight => w !== undefined) ? ordered : fileWeights;
}

/** `block_1_expand/kernel:0` -> `kernel` (tfjs' `originalName` carries no uniquifying suffix). */
function shortName(name: string): string {
  return (name.split("/").pop() ?? name).replace(/:\d+$/, "");
}

function sameShape(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
