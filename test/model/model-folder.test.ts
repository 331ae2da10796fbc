import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLayersModelFolder, loadModelFolder, saveModelFolder, type ModelMetadata } from "../../stages/model/model-folder.js";
import { buildMuNet } from "../../stages/model/mu-net.js";

const metadata: ModelMetadata = {
  version: 1,
  format: "mu-pipe-model",
  alpha: 0.35,
  inputSize: 32,
  decoderFilters: [8, 8, 4, 4],
  inputScaling: "imagenet",
  threshold: 0.42,
  createdBy: "mu-pipe test",
};

let work: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-model-folder-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});


const batch = (): tf.Tensor4D => tf.randomUniform([2, 32, 32, 3], -1, 1, "float32", 3) as tf.Tensor4D;
const predict = (model: tf.LayersModel): Float32Array => tf.tidy(() => (model.predict(batch()) as tf.Tensor).dataSync() as Float32Array);

/** A small MU-Net whose batch-norm statistics are not the initial ones, so they must round-trip too. */
function smallMuNet(): tf.LayersModel {
  const model = buildMuNet({ alpha: 0.35, inputSize: 32, decoderFilters: [8, 8, 4, 4] });
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    const values = layer.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 1.5 : 0.5, "float32", i + 1));
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

describe("model folders", () => {
  it("saves model.json, weights.bin and mu-model.json, and loads a model with identical predictions", async () => {
    const model = smallMuNet();
    const dir = path.join(work, "saved");
    await saveModelFolder(model, dir, metadata);
    expect((await readdir(dir)).sort()).toEqual(["model.json", "mu-model.json", "weights.bin"]);

    const modelJson = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8")) as tf.io.ModelJSON;
    expect(modelJson.format).toBe("layers-model");
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0]?.paths).toEqual(["weights.bin"]);
    expect(JSON.parse(await readFile(path.join(dir, "mu-model.json"), "utf8"))).toEqual(metadata);

    const before = tf.memory().numTensors;
    const loaded = await loadModelFolder(dir);
    expect(loaded.metadata).toEqual(metadata);
    expect(loaded.model.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    expect(predict(loaded.model)).toEqual(predict(model));
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("reads the folder with tf.loadLayersModel's own fromMemory path the same way (standard format)", async () => {
    const model = smallMuNet();
    const dir = path.join(work, "standard");
    await saveModelFolder(model, dir, metadata);
    const modelJson = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8")) as tf.io.ModelJSON;
    const bytes = await readFile(path.join(dir, "weights.bin"));
    const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
    const viaMemory = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: new Uint8Array(bytes).buffer }));
    expect(predict(viaMemory)).toEqual(predict(model));
    viaMemory.dispose();
    model.dispose();
  });

  it("loads a plain TF.js folder with several shards, by folder or by model.json path", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ name: "d1", units: 3, inputShape: [4] }), tf.layers.dense({ name: "d2", units: 2 })] });
    const dir = path.join(work, "plain");
    await mkdir(dir, { recursive: true });
    // Write a converter-style folder by hand: one shard per weight.
    const weights = model.weights.map((w) => ({ name: w.name, shape: w.shape as number[], dtype: "float32" as const, data: w.read().dataSync() as Float32Array }));
    const paths = weights.map((_, i) => `group1-shard${i + 1}of${weights.length}.bin`);
    await Promise.all(weights.map((w, i) => writeFile(path.join(dir, paths[i] as string), new Uint8Array(w.data.buffer.slice(0) as ArrayBuffer))));
    const topology = (await new Promise<tf.io.ModelArtifacts>((resolve) => {
      void model.save(tf.io.withSaveHandler(async (artifacts) => (resolve(artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } })));
    })).modelTopology;
    await writeFile(
      path.join(dir, "model.json"),
      JSON.stringify({ format: "layers-model", modelTopology: topology, weightsManifest: [{ paths, weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }] }),
    );
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    for (const where of [dir, path.join(dir, "model.json")]) {
      const loaded = await loadLayersModelFolder(where);
      expect((loaded.predict(x) as tf.Tensor).dataSync()).toEqual(expected);
      loaded.dispose();
    }
  });
});

describe("folders that are not ours", () => {
  async function savedCopy(name: string): Promise<string> {
    const dir = path.join(work, name);
    const model = buildMuNet({ alpha: 0.35, inputSize: 32, decoderFilters: [8, 8, 4, 4] });
    await saveModelFolder(model, dir, metadata);
    model.dispose();
    return dir;
  }

  it("names a folder that does not exist", async () => {
    const dir = path.join(work, "nope");
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: no such folder`);
  });

  it("names a plain TF.js folder without mu-model.json", async () => {
    const dir = await savedCopy("no-metadata");
    await rm(path.join(dir, "mu-model.json"));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: not a mu-pipe model folder: no mu-model.json`);
    // ...which loadLayersModelFolder still reads.
    const model = await loadLayersModelFolder(dir);
    expect(model.name).toBe("mu_net");
    model.dispose();
  });

  it("rejects another format or version", async () => {
    const dir = await savedCopy("wrong-version");
    await writeFile(path.join(dir, "mu-model.json"), JSON.stringify({ ...metadata, version: 2 }));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: mu-model.json: version is 2, this mu-pipe reads version 1`);
    await writeFile(path.join(dir, "mu-model.json"), JSON.stringify({ ...metadata, format: "something-else" }));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: mu-model.json: format is "something-else", expected "mu-pipe-model"`);
    await writeFile(path.join(dir, "mu-model.json"), "{ not json");
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: mu-model.json is not valid JSON`);
  });

  it("reads the TTA a threshold was chosen with, and names an unknown one", async () => {
    const dir = await savedCopy("tta");
    await writeFile(path.join(dir, "mu-model.json"), JSON.stringify({ ...metadata, threshold: 0.4, tta: "flip" }));
    const loaded = await loadModelFolder(dir);
    loaded.model.dispose();
    expect(loaded.metadata).toMatchObject({ threshold: 0.4, tta: "flip" });
    await writeFile(path.join(dir, "mu-model.json"), JSON.stringify({ ...metadata, tta: "mirror" }));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: mu-model.json: tta must be one of none, flip when present, got "mirror"`);
  });

  it("names a missing model.json or weight shard", async () => {
    const dir = await savedCopy("missing-files");
    await rm(path.join(dir, "weights.bin"));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: weight shard weights.bin named in model.json is missing`);
    await rm(path.join(dir, "model.json"));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: not a TF.js LayersModel folder: no model.json`);
  });

  it("rejects metadata whose input size disagrees with the model", async () => {
    const dir = await savedCopy("wrong-size");
    await writeFile(path.join(dir, "mu-model.json"), JSON.stringify({ ...metadata, inputSize: 64 }));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: mu-model.json says inputSize 64, but model.json takes 32x32 inputs`);
  });

  it("refuses to save invalid metadata", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    const dir = path.join(work, "invalid-metadata");
    await expect(saveModelFolder(model, dir, { ...metadata, inputScaling: "bgr" as never })).rejects.toThrow(
      `${dir}: invalid metadata: inputScaling must be one of imagenet, unit, got "bgr"`,
    );
  });
});
