/**
 * Keras HDF5 weight files (the "legacy" `.h5` layout that `keras.applications` ships and
 * `model.save_weights("x.h5")` / `model.save("x.h5")` write), read and written with h5wasm.
 *
 * Layout: a group holding the attribute `layer_names` (the layers in order). Each layer has a
 * group of the same name whose attribute `weight_names` lists the dataset paths of its weights,
 * relative to that group, in the layer's weight order. Keras 2 names them `Conv1/kernel:0`,
 * Keras 3 `Conv1/kernel`. Weight-only files keep these attributes on the root group; full-model
 * files keep them on the `model_weights` group. Keras 2 splits an attribute larger than 64 KiB
 * into `layer_names0`, `layer_names1`, ...; both forms are read.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import h5wasm from "h5wasm/node";
import type * as tf from "@tensorflow/tfjs";

/** One weight of one layer, in the order the layer declares its weights. */
export interface KerasWeight {
  /** As listed in `weight_names`, without the Keras 2 `:0` suffix, e.g. `bn_Conv1/gamma`. */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Layer name -> its weights, in the file's layer order. Layers without weights map to []. */
export type KerasWeights = Map<string, KerasWeight[]>;

/** The file each `KerasWeights` was read from, for error messages further on. */
const sources = new WeakMap<KerasWeights, string>();

/** The file `weights` was read from, if `readKerasWeights` made it. */
export function kerasWeightsSource(weights: KerasWeights): string | undefined {
  return sources.get(weights);
}

/** A weights file that cannot be read, naming the file and what is wrong with it. */
export class KerasWeightsFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "KerasWeightsFileError";
  }
}

/** The `keras_version` written into files: the Keras 2 layout this writer reproduces. */
export const WRITTEN_KERAS_VERSION = "2.15.0";

type H5Group = InstanceType<typeof h5wasm.Group>;

type H5Module = Awaited<typeof h5wasm.ready>;

/**
 * Runs synchronous h5wasm calls with HDF5's errors thrown as exceptions (instead of printed to
 * stderr while the call carries on with an invalid id), restoring the default handler after.
 */
async function withHdf5<T>(body: (lib: typeof h5wasm) => T): Promise<T> {
  const module: H5Module = await h5wasm.ready;
  module.activate_throwing_error_handler();
  try {
    return body(h5wasm);
  } finally {
    module.deactivate_throwing_error_handler();
  }
}

/** The innermost reason of an HDF5 error stack, e.g. "truncated file: eof = 600, ...". */
function hdf5Reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const reasons = [...text.matchAll(/ in [\w.]+\(\): (.+)$/gm)].map((m) => m[1]);
  return (reasons.at(-1) ?? text).trim();
}

/** Reads every layer's weights from a Keras HDF5 weights or full-model file. */
export async function readKerasWeights(file: string): Promise<KerasWeights> {
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw new KerasWeightsFileError(file, "no such file");
  if (!statSync(absolute).isFile()) throw new KerasWeightsFileError(file, "not a file");
  if (!isHdf5(absolute)) throw new KerasWeightsFileError(file, "not an HDF5 file (no HDF5 signature)");

  const weights = await withHdf5((lib) => {
    let h5file: InstanceType<typeof lib.File>;
    try {
      h5file = new lib.File(absolute, "r");
    } catch (error) {
      throw new KerasWeightsFileError(file, `cannot be opened as HDF5 (${hdf5Reason(error)})`);
    }
    try {
      const read: KerasWeights = new Map();
      const top = weightsGroup(h5file, file);
      for (const layerName of stringListAttribute(top, "layer_names", file, "the weights group")) {
        read.set(layerName, readLayer(top, layerName, file));
      }
      return read;
    } catch (error) {
      if (error instanceof KerasWeightsFileError) throw error;
      throw new KerasWeightsFileError(file, `unreadable (${hdf5Reason(error)})`);
    } finally {
      h5file.close();
    }
  });
  sources.set(weights, file);
  return weights;
}

/**
 * Writes `model`'s weights in Keras 2's HDF5 weights layout (what `save_weights("x.h5")` wrote):
 * root attributes `layer_names`, `backend`, `keras_version`; one group per layer with attribute
 * `weight_names` (`<layer>/<weight>:0`) and the datasets nested at those paths. Written to a
 * temporary file first and renamed into place.
 */
export async function writeKerasWeights(file: string, model: tf.LayersModel): Promise<void> {
  const absolute = path.resolve(file);
  if (!existsSync(path.dirname(absolute))) throw new KerasWeightsFileError(file, `cannot be created: no folder ${path.dirname(absolute)}`);
  const temporary = `${absolute}.tmp-${process.pid}-${Date.now()}`;
  const layers = model.layers.map((layer) => ({ name: layer.name, weightNames: layerWeightNames(layer), values: layer.getWeights() }));
  try {
    await withHdf5((lib) => {
      let out: InstanceType<typeof lib.File>;
      try {
        out = new lib.File(temporary, "w");
      } catch (error) {
        throw new KerasWeightsFileError(file, `cannot be created (${hdf5Reason(error)})`);
      }
      try {
        writeLayers(out, layers);
      } finally {
        out.close();
      }
    });
    renameSync(temporary, absolute);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function writeLayers(out: H5Group, layers: { name: string; weightNames: string[]; values: tf.Tensor[] }[]): void {
  writeStringList(out, "layer_names", layers.map((l) => l.name));
  out.create_attribute("backend", "tensorflow");
  out.create_attribute("keras_version", WRITTEN_KERAS_VERSION);
  for (const layer of layers) {
    const group = out.create_group(layer.name);
    if (layer.weightNames.length === 0) {
      // h5py stores Keras' empty `weight_names` list as an empty float64 array.
      group.create_attribute("weight_names", new Float64Array(0), [0]);
      continue;
    }
    writeStringList(group, "weight_names", layer.weightNames);
    layer.weightNames.forEach((weightName, i) => {
      const tensor = layer.values[i];
      if (tensor === undefined) throw new Error(`layer ${layer.name} has no value for weight ${weightName}`);
      const { parent, leaf } = ensureParents(group, weightName);
      parent.create_dataset({ name: leaf, data: Float32Array.from(tensor.dataSync()), shape: tensor.shape, dtype: "<f4" });
    });
  }
}

/** Keras 2 weight names for a tfjs layer: `<layer>/<weight>:0`, unique within the layer. */
function layerWeightNames(layer: tf.layers.Layer): string[] {
  const names = layer.weights.map((w) => `${w.originalName.includes("/") ? w.originalName : `${layer.name}/${w.originalName}`}:0`);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new Error(`layer ${layer.name} has two weights named ${name}; cannot write a Keras HDF5 file`);
    seen.add(name);
  }
  return names;
}

function ensureParents(group: H5Group, datasetPath: string): { parent: H5Group; leaf: string } {
  const parts = datasetPath.split("/");
  const leaf = parts.pop() ?? datasetPath;
  let parent = group;
  for (const part of parts) {
    const existing = parent.keys().includes(part) ? parent.get(part) : null;
    parent = existing instanceof h5wasm.Group ? existing : parent.create_group(part);
  }
  return { parent, leaf };
}

/** Fixed-length byte strings, as h5py stores a list of Python bytes (ASCII where possible). */
function writeStringList(group: H5Group, name: string, values: string[]): void {
  const ascii = values.every((v) => /^[\x20-\x7e]*$/.test(v));
  const width = Math.max(1, ...values.map((v) => Buffer.byteLength(v, "utf8")));
  group.create_attribute(name, values, [values.length], `${ascii ? "A" : "S"}${width}`);
}

function readLayer(top: H5Group, layerName: string, file: string): KerasWeight[] {
  const group = top.keys().includes(layerName) ? top.get(layerName) : null;
  if (!(group instanceof h5wasm.Group)) throw new KerasWeightsFileError(file, `layer_names lists ${layerName} but the file has no group ${layerName}`);
  const weightNames = stringListAttribute(group, "weight_names", file, `layer ${layerName}`);
  return weightNames.map((weightName) => {
    const dataset = group.get(weightName);
    if (!(dataset instanceof h5wasm.Dataset)) throw new KerasWeightsFileError(file, `layer ${layerName} lists weight ${weightName} but has no dataset ${layerName}/${weightName}`);
    const shape = dataset.shape ?? [];
    const values = toFloat32(dataset.value);
    if (values === undefined) throw new KerasWeightsFileError(file, `${layerName}/${weightName} is not numeric (dtype ${JSON.stringify(dataset.dtype)})`);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (values.length !== expected) throw new KerasWeightsFileError(file, `${layerName}/${weightName} holds ${values.length} values for shape [${shape.join(",")}]`);
    return { name: weightName.replace(/:\d+$/, ""), shape, values };
  });
}

/** The group with `layer_names`: the root of a weights file, `model_weights` of a full-model file. */
function weightsGroup(root: H5Group, file: string): H5Group {
  if (hasListAttribute(root, "layer_names")) return root;
  const modelWeights = root.keys().includes("model_weights") ? root.get("model_weights") : null;
  if (modelWeights instanceof h5wasm.Group && hasListAttribute(modelWeights, "layer_names")) return modelWeights;
  const keys = root.keys();
  if (keys.includes("layers") || keys.includes("vars")) {
    throw new KerasWeightsFileError(file, "is in the Keras 3 `.weights.h5` layout (layers/<name>/vars), not the HDF5 layout with layer_names; save it with model.save('model.h5') instead");
  }
  throw new KerasWeightsFileError(file, "has no layer_names attribute (neither on the root nor on a model_weights group); it is not a Keras HDF5 weights file");
}

function hasListAttribute(group: H5Group, name: string): boolean {
  const attrs = Object.keys(group.attrs);
  return attrs.includes(name) || attrs.includes(`${name}0`);
}

/** A list-of-strings attribute, joining Keras 2's `<name>0`, `<name>1`, ... chunks. */
function stringListAttribute(group: H5Group, name: string, file: string, where: string): string[] {
  const attrs = group.attrs;
  const chunks: unknown[] = [];
  if (name in attrs) chunks.push(attrs[name]?.value);
  else for (let i = 0; `${name}${i}` in attrs; i++) chunks.push(attrs[`${name}${i}`]?.value);
  if (chunks.length === 0) throw new KerasWeightsFileError(file, `${where} has no ${name} attribute`);
  const out: string[] = [];
  for (const chunk of chunks) {
    if (ArrayBuffer.isView(chunk) && (chunk as unknown as ArrayLike<unknown>).length === 0) continue; // h5py's empty list
    const items = Array.isArray(chunk) ? chunk : [chunk];
    for (const item of items) {
      if (typeof item === "string") out.push(item);
      else if (item instanceof Uint8Array) out.push(Buffer.from(item).toString("utf8").replace(/\0+$/, ""));
      else throw new KerasWeightsFileError(file, `${where}: attribute ${name} is not a list of strings`);
    }
  }
  return out;
}

function toFloat32(value: unknown): Float32Array | undefined {
  if (value instanceof Float32Array) return value;
  if (typeof value === "number") return Float32Array.of(value);
  if (value instanceof Float64Array || value instanceof Int32Array || value instanceof Uint8Array || value instanceof Int16Array || value instanceof Uint16Array || value instanceof Int8Array || value instanceof Uint32Array) {
    return Float32Array.from(value);
  }
  return undefined;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5's superblock signature sits at offset 0, 512, 1024, 2048, ... */
function isHdf5(file: string): boolean {
  const size = statSync(file).size;
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, buffer, 0, 8, offset);
      if (buffer.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}
