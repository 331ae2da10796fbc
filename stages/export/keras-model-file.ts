/**
 * A full Keras model in one HDF5 file, the legacy layout `model.save("x.h5")` writes and
 * `keras.models.load_model("x.h5")` reads (Keras 2, and Keras 3 through its legacy loader):
 *
 *   /                  attributes model_config (JSON), keras_version, backend, mu_pipe_metadata
 *   /model_weights     the weights layout of `writeKerasWeights` (layer_names, one group per layer)
 *
 * No `training_config` is written: the file holds a model to predict with, not an optimizer
 * state, so Keras loads it uncompiled.
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import h5wasm from "h5wasm/node";
import type * as tf from "@tensorflow/tfjs";

import { WRITTEN_KERAS_VERSION, writeKerasWeights } from "../model/keras-h5.js";
import type { ModelMetadata } from "../model/model-folder.js";
import { kerasModelConfig } from "./keras-model-config.js";

type H5Group = InstanceType<typeof h5wasm.Group>;

/** Root attribute holding mu-pipe's `mu-model.json` (input size, scaling, threshold). */
export const METADATA_ATTRIBUTE = "mu_pipe_metadata";

/**
 * Writes `model` (config and weights) and `metadata` as a Keras full-model HDF5 file at `file`,
 * through a temporary file renamed into place.
 */
export async function writeKerasModelFile(file: string, model: tf.LayersModel, metadata: ModelMetadata): Promise<void> {
  const absolute = path.resolve(file);
  const modelConfig = JSON.stringify(kerasModelConfig(model.toJSON(null, false)));
  const stamp = `${process.pid}-${Date.now()}`;
  const weightsFile = `${absolute}.weights-${stamp}.tmp`;
  const temporary = `${absolute}.${stamp}.tmp`;
  try {
    await writeKerasWeights(weightsFile, model);
    const module = await h5wasm.ready;
    module.activate_throwing_error_handler();
    try {
      const weights = new h5wasm.File(weightsFile, "r");
      try {
        const out = new h5wasm.File(temporary, "w");
        try {
          out.create_attribute("model_config", modelConfig);
          out.create_attribute("keras_version", WRITTEN_KERAS_VERSION);
          out.create_attribute("backend", "tensorflow");
          out.create_attribute(METADATA_ATTRIBUTE, JSON.stringify(metadata));
          copyGroup(weights, out.create_group("model_weights"));
        } finally {
          out.close();
        }
      } finally {
        weights.close();
      }
    } finally {
      module.deactivate_throwing_error_handler();
    }
    renameSync(temporary, absolute);
  } finally {
    rmSync(weightsFile, { force: true });
    if (existsSync(temporary)) rmSync(temporary, { force: true });
  }
}

/** Copies `from`'s attributes, datasets and subgroups into `to`, recursively. */
function copyGroup(from: H5Group, to: H5Group): void {
  copyAttributes(from, to);
  for (const name of from.keys()) {
    const child = from.get(name);
    if (child instanceof h5wasm.Group) {
      copyGroup(child, to.create_group(name));
    } else if (child instanceof h5wasm.Dataset) {
      const value = copyable(child.value, child.path);
      const copy = to.create_dataset({ name, data: value, shape: child.shape, dtype: child.dtype });
      copyAttributes(child, copy);
    } else {
      throw new Error(`${from.path}/${name}: cannot copy an HDF5 entry of this kind`);
    }
  }
}

function copyAttributes(from: H5Group | InstanceType<typeof h5wasm.Dataset>, to: H5Group | InstanceType<typeof h5wasm.Dataset>): void {
  for (const [name, attribute] of Object.entries(from.attrs)) {
    const value = copyable(attribute.value, `${from.path} attribute ${name}`);
    // Scalars keep h5wasm's guessed shape; variable-length strings its guessed (UTF-8) type.
    const shape = attribute.shape === null || attribute.shape.length === 0 ? null : attribute.shape;
    to.create_attribute(name, value, shape, attribute.metadata.vlen ? null : attribute.dtype);
  }
}

/** The values `writeKerasWeights` writes (numbers and strings), as h5wasm takes them back. */
function copyable(value: unknown, where: string): Float32Array | Float64Array | Int32Array | Uint8Array | number | string | string[] | number[] {
  if (typeof value === "number" || typeof value === "string") return value;
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array || value instanceof Uint8Array) return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return value as number[];
  throw new Error(`${where}: cannot copy a value of this kind (${typeof value})`);
}
