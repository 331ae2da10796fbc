import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import h5wasm from "h5wasm/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { applyKerasWeights } from "../../stages/model/apply-weights.js";
import { readKerasWeights, writeKerasWeights, type KerasWeights } from "../../stages/model/keras-h5.js";
import { buildMuNet, encoderLayerNames } from "../../stages/model/mu-net.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const sharedWeights = path.resolve(repoRoot, "../shared/weights");

/** A tiny Keras-named network: MobileNetV2's stem and block 0, plus a biased head. */
function tinyModel(width = 8, seed = 1): tf.LayersModel {
  const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed: seed * 100 + s });
  const input = tf.input({ name: "input_image", shape: [8, 8, 3] });
  let x = tf.layers.conv2d({ name: "Conv1", filters: width, kernelSize: 3, strides: 2, padding: "same", useBias: false, kernelInitializer: init(1) }).apply(input);
  x = tf.layers
    .batchNormalization({ name: "bn_Conv1", epsilon: 1e-3, gammaInitializer: init(2), betaInitializer: init(3), movingMeanInitializer: init(4), movingVarianceInitializer: "ones" })
    .apply(x);
  x = tf.layers.reLU({ name: "Conv1_relu", maxValue: 6 }).apply(x);
  x = tf.layers.depthwiseConv2d({ name: "expanded_conv_depthwise", kernelSize: 3, padding: "same", useBias: false, depthwiseInitializer: init(5) }).apply(x);
  x = tf.layers.conv2d({ name: "head", filters: 2, kernelSize: 1, useBias: true, kernelInitializer: init(6), biasInitializer: init(7) }).apply(x);
  return tf.model({ inputs: input, outputs: x as tf.SymbolicTensor });
}

const input = (): tf.Tensor4D => tf.randomUniform([2, 8, 8, 3], -1, 1, "float32", 7) as tf.Tensor4D;

function predict(model: tf.LayersModel): Float32Array {
  return tf.tidy(() => (model.predict(input()) as tf.Tensor).dataSync() as Float32Array);
}

const tempDirs: string[] = [];
async function tempFile(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mu-weights-"));
  tempDirs.push(dir);
  return path.join(dir, name);
}

/** Writes a Keras 3 style file (weight names without `:0`, vlen strings) with h5wasm directly. */
async function writeKeras3Style(file: string, model: tf.LayersModel, options: { fullModel: boolean }): Promise<void> {
  await h5wasm.ready;
  const out = new h5wasm.File(file, "w");
  const top = options.fullModel ? out.create_group("model_weights") : out;
  if (options.fullModel) out.create_attribute("model_config", "{}");
  top.create_attribute("layer_names", model.layers.map((l) => l.name));
  top.create_attribute("backend", "jax");
  top.create_attribute("keras_version", "3.15.1");
  for (const layer of model.layers) {
    const group = top.create_group(layer.name);
    const names = layer.weights.map((w) => w.originalName.split("/").pop() as string);
    if (names.length === 0) {
      group.create_attribute("weight_names", new Float64Array(0), [0]);
      continue;
    }
    group.create_attribute("weight_names", names.map((n) => `${layer.name}/${n}`));
    const inner = group.create_group(layer.name);
    layer.getWeights().forEach((t, i) => inner.create_dataset({ name: names[i] as string, data: t.dataSync() as Float32Array, shape: t.shape }));
  }
  out.close();
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("Keras HDF5 weights round trip", () => {
  it("writes Keras 2 layout and reads it back into a fresh model with equal outputs", async () => {
    const source = tinyModel(8, 1);
    const target = tinyModel(8, 2);
    expect(predict(target)).not.toEqual(predict(source));
    const file = await tempFile("tiny.h5");
    await writeKerasWeights(file, source);

    const weights = await readKerasWeights(file);
    expect([...weights.keys()]).toEqual(["input_image", "Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise", "head"]);
    expect(weights.get("input_image")).toEqual([]);
    expect(weights.get("bn_Conv1")?.map((w) => w.name)).toEqual(["bn_Conv1/gamma", "bn_Conv1/beta", "bn_Conv1/moving_mean", "bn_Conv1/moving_variance"]);
    expect(weights.get("expanded_conv_depthwise")?.[0]?.shape).toEqual([3, 3, 8, 1]);

    const before = tf.memory().numTensors;
    const result = applyKerasWeights(target, weights);
    expect(tf.memory().numTensors).toBe(before);
    expect(result).toEqual({ loaded: ["Conv1", "bn_Conv1", "expanded_conv_depthwise", "head"], skipped: [] });
    expect(predict(target)).toEqual(predict(source));
  });

  it("stores the layout Keras 2's load_weights reads: attributes and nested <layer>/<weight>:0 datasets", async () => {
    const file = await tempFile("layout.h5");
    await writeKerasWeights(file, tinyModel());
    await h5wasm.ready;
    const f = new h5wasm.File(file, "r");
    try {
      expect(f.attrs.layer_names?.value).toEqual(["input_image", "Conv1", "bn_Conv1", "Conv1_relu", "expanded_conv_depthwise", "head"]);
      expect(f.attrs.layer_names?.dtype).toMatch(/^A\d+$/); // fixed-length byte strings, as h5py writes bytes
      expect(f.attrs.backend?.value).toBe("tensorflow");
      expect(typeof f.attrs.keras_version?.value).toBe("string");
      expect(f.get("head")).toBeInstanceOf(h5wasm.Group);
      const head = f.get("head") as InstanceType<typeof h5wasm.Group>;
      expect(head.attrs.weight_names?.value).toEqual(["head/kernel:0", "head/bias:0"]);
      expect((f.get("head/head/kernel:0") as InstanceType<typeof h5wasm.Dataset>).shape).toEqual([1, 1, 8, 2]);
      expect((f.get("head/head/kernel:0") as InstanceType<typeof h5wasm.Dataset>).dtype).toBe("<f");
      expect((f.get("input_image") as InstanceType<typeof h5wasm.Group>).attrs.weight_names?.shape).toEqual([0]);
    } finally {
      f.close();
    }
  });

  it.each([
    ["a weights file", false],
    ["a full-model file (model_weights group)", true],
  ])("reads Keras 3 weight names (no :0) from %s", async (_label, fullModel) => {
    const source = tinyModel(8, 3);
    const file = await tempFile("keras3.h5");
    await writeKeras3Style(file, source, { fullModel });
    const weights = await readKerasWeights(file);
    expect(weights.get("head")?.map((w) => w.name)).toEqual(["head/kernel", "head/bias"]);
    const target = tinyModel(8, 4);
    applyKerasWeights(target, weights);
    expect(predict(target)).toEqual(predict(source));
  });

  it("loads only the layers the filter accepts and reports the rest as skipped", async () => {
    const source = tinyModel(8, 5);
    const target = tinyModel(8, 6);
    const file = await tempFile("filter.h5");
    await writeKerasWeights(file, source);
    const headBefore = target.getLayer("head").getWeights()[0]?.dataSync();
    const result = applyKerasWeights(target, await readKerasWeights(file), { layers: (name) => name !== "head" });
    expect(result).toEqual({ loaded: ["Conv1", "bn_Conv1", "expanded_conv_depthwise"], skipped: ["head"] });
    expect(target.getLayer("head").getWeights()[0]?.dataSync()).toEqual(headBefore);
    expect(target.getLayer("Conv1").getWeights()[0]?.dataSync()).toEqual(source.getLayer("Conv1").getWeights()[0]?.dataSync());
  });
});

describe("weights that do not fit", () => {
  let file: string;
  let weights: KerasWeights;
  beforeAll(async () => {
    file = await tempFile("narrow.h5");
    await writeKerasWeights(file, tinyModel(8));
    weights = await readKerasWeights(file);
  });

  it("names the layer, weight and both shapes on a shape mismatch, and changes nothing", () => {
    const wide = tinyModel(16, 9);
    const before = predict(wide);
    expect(() => applyKerasWeights(wide, weights)).toThrow(`Conv1/kernel: file has [3,3,3,8], model expects [3,3,3,16] — is the file for another alpha?`);
    expect(predict(wide)).toEqual(before);
  });

  it("names a model layer the file has no weights for", () => {
    const model = tinyModel(8);
    const partial: KerasWeights = new Map([...weights].filter(([name]) => name !== "expanded_conv_depthwise"));
    expect(() => applyKerasWeights(model, partial, { source: file })).toThrow(`layer expanded_conv_depthwise has no weights in ${file}`);
    expect(applyKerasWeights(model, partial, { allowMissing: true }).skipped).toEqual(["expanded_conv_depthwise"]);
  });

  it("names the file read by readKerasWeights in the missing-layer message", async () => {
    const other = tf.sequential({ layers: [tf.layers.dense({ name: "dense_x", units: 1, inputShape: [2] })] });
    expect(() => applyKerasWeights(other, weights)).toThrow(`layer dense_x has no weights in ${file}`);
  });

  it("reports a weight-count mismatch (a bias the file lacks)", () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ name: "Conv1", filters: 8, kernelSize: 3, inputShape: [8, 8, 3], useBias: true })] });
    expect(() => applyKerasWeights(model, weights, { layers: (n) => n === "Conv1" })).toThrow(
      `layer Conv1: ${file} has 1 weights (kernel), the model expects 2 (kernel, bias)`,
    );
  });

  it("does not leak tensors when it fails", () => {
    const wide = tinyModel(16);
    const before = tf.memory().numTensors;
    expect(() => applyKerasWeights(wide, weights)).toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("files that are not Keras weights", () => {
  it("rejects garbage bytes, naming the file", async () => {
    const file = await tempFile("garbage.h5");
    await writeFile(file, Buffer.from("this is not an HDF5 file at all, just some text\n".repeat(40)));
    await expect(readKerasWeights(file)).rejects.toThrow(`${file}: not an HDF5 file (no HDF5 signature)`);
  });

  it("rejects a truncated HDF5 file, naming the file", async () => {
    const good = await tempFile("good.h5");
    await writeKerasWeights(good, tinyModel());
    const file = path.join(path.dirname(good), "truncated.h5");
    await writeFile(file, (await readFile(good)).subarray(0, 600));
    await expect(readKerasWeights(file)).rejects.toThrow(`${file}: cannot be opened as HDF5 (truncated file: eof = 600`);
  });

  it("rejects an HDF5 file without layer_names", async () => {
    const file = await tempFile("plain.h5");
    await h5wasm.ready;
    const f = new h5wasm.File(file, "w");
    f.create_dataset({ name: "x", data: new Float32Array([1, 2]) });
    f.close();
    await expect(readKerasWeights(file)).rejects.toThrow(`${file}: has no layer_names attribute (neither on the root nor on a model_weights group); it is not a Keras HDF5 weights file`);
  });

  it("rejects a layer group without weight_names", async () => {
    const file = await tempFile("noweightnames.h5");
    await h5wasm.ready;
    const f = new h5wasm.File(file, "w");
    f.create_attribute("layer_names", ["Conv1"]);
    f.create_group("Conv1");
    f.close();
    await expect(readKerasWeights(file)).rejects.toThrow(`${file}: layer Conv1 has no weight_names attribute`);
  });

  it("names the file it cannot create", async () => {
    const file = path.join(os.tmpdir(), "mu-pipe-no-such-folder", "out.h5");
    await expect(writeKerasWeights(file, tinyModel())).rejects.toThrow(`${file}: cannot be created: no folder ${path.dirname(file)}`);
  });

  it("rejects a missing file", async () => {
    const file = path.join(os.tmpdir(), "mu-pipe-no-such-weights.h5");
    await expect(readKerasWeights(file)).rejects.toThrow(`${file}: no such file`);
  });

  it("reads layer_names split into chunks (layer_names0, layer_names1) as Keras 2 writes large lists", async () => {
    const source = tinyModel(8, 11);
    const file = await tempFile("chunked.h5");
    await writeKerasWeights(file, source);
    const f = new h5wasm.File(file, "a");
    const names = f.attrs.layer_names?.value as string[];
    f.delete_attribute("layer_names");
    f.create_attribute("layer_names0", names.slice(0, 3));
    f.create_attribute("layer_names1", names.slice(3));
    f.close();
    expect([...(await readKerasWeights(file)).keys()]).toEqual(names);
  });
});

describe("the real ImageNet files", () => {
  const file035 = path.join(sharedWeights, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5");
  const file10 = path.join(sharedWeights, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5");
  const absent = (file: string): string | null => (existsSync(file) ? null : `${file} is absent`);
  const skip035 = skipUnlessAvailable("../shared/weights' 0.35 ImageNet file", absent(file035));
  const skip10 = skipUnlessAvailable("../shared/weights' 1.0 ImageNet file", absent(file10));

  it.skipIf(skip035)("reads all 154 layers of the 0.35 file in Keras order", async () => {
    const weights = await readKerasWeights(file035);
    expect(weights.size).toBe(154);
    expect([...weights.keys()].slice(0, 3)).toEqual(["input_layer", "Conv1", "bn_Conv1"]);
    expect(weights.get("block_13_expand")?.[0]?.shape).toEqual([1, 1, 32, 192]);
    expect(weights.get("bn_Conv1")?.map((w) => w.name)).toEqual(["bn_Conv1/gamma", "bn_Conv1/beta", "bn_Conv1/moving_mean", "bn_Conv1/moving_variance"]);
  });

  it.skipIf(skip10)("refuses the 1.0 file on a 0.35 model, suggesting another alpha", async () => {
    const model = buildMuNet({ alpha: 0.35, inputSize: 32 });
    const encoder = new Set(encoderLayerNames(model));
    try {
      const weights = await readKerasWeights(file10);
      expect(() => applyKerasWeights(model, weights, { layers: (n) => encoder.has(n) })).toThrow(
        "Conv1/kernel: file has [3,3,3,32], model expects [3,3,3,16] — is the file for another alpha?",
      );
    } finally {
      model.dispose();
    }
  });

  it.skipIf(skip035)("round-trips the 0.35 encoder through writeKerasWeights", async () => {
    const model = buildMuNet({ alpha: 0.35, inputSize: 32 });
    const encoder = new Set(encoderLayerNames(model));
    const original = await readKerasWeights(file035);
    applyKerasWeights(model, original, { layers: (n) => encoder.has(n) });
    const file = await tempFile("munet.h5");
    await writeKerasWeights(file, model);
    const written = await readKerasWeights(file);
    expect(written.get("block_13_expand_BN")?.map((w) => w.values)).toEqual(original.get("block_13_expand_BN")?.map((w) => w.values));
    expect(written.get("decoder_1_conv_1")?.map((w) => w.name)).toEqual(["decoder_1_conv_1/kernel", "decoder_1_conv_1/bias"]);
    model.dispose();
  });
});
