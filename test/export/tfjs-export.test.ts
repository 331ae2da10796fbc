import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ExportError } from "../../stages/export/export-error.js";
import { exportModel } from "../../stages/export/export-model.js";
import { fileLoadHandler, loadModelFolder } from "../../stages/model/model-folder.js";
import { feedingLines, tfjsReadme } from "../../stages/export/feeding-notes.js";
import { tfliteReadme } from "../../stages/export/tflite/tflite-readme.js";
import { predictProbabilities } from "../../stages/predict/infer.js";
import { TINY_SIZE, predict, saveTinyModel, tinyBatch, tinyMetadata } from "./tiny-model.js";

let work: string;
let modelDir: string;
let expected: Float32Array;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-tfjs-"));
  modelDir = path.join(work, "model");
  const model = await saveTinyModel(modelDir);
  const x = tinyBatch();
  expected = predict(model, x);
  x.dispose();
  model.dispose();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Predictions of `model` on the test batch; disposes the model. */
function predictionsOf(model: tf.LayersModel): Float32Array {
  const x = tinyBatch();
  const y = predict(model, x);
  x.dispose();
  model.dispose();
  return y;
}

describe("tfjs export", () => {
  it("writes a LayersModel folder that tf.loadLayersModel and loadModelFolder load with identical predictions", async () => {
    const out = path.join(work, "web-model");
    const result = await exportModel({ modelDir, format: "tfjs", out });
    expect(result.files).toEqual(["README.txt", "model.json", "mu-model.json", "weights.bin"]);
    expect((await readdir(work)).sort()).toEqual(["model", "web-model"]); // no temporary left behind

    const plain = await tf.loadLayersModel(fileLoadHandler(out));
    expect(predictionsOf(plain)).toEqual(expected);
    const loaded = await loadModelFolder(out);
    expect(loaded.metadata).toEqual(tinyMetadata);
    expect(predictionsOf(loaded.model)).toEqual(expected);
  });

  it("says in README.txt how to feed the model: RGB, size, scaling, sigmoid output, threshold", async () => {
    const out = path.join(work, "readme-model");
    await exportModel({ modelDir, format: "tfjs", out });
    const readme = await readFile(path.join(out, "README.txt"), "utf8");
    expect(readme).toContain("RGB order");
    expect(readme).toContain("Resize each image to 32x32");
    expect(readme).toContain("x / 127.5 - 1");
    expect(readme).toContain("sigmoid");
    expect(readme).toContain("Threshold: 0.42");
    expect(readme).toContain("greaterEqual(0.42)");
  });

  it("for a model whose threshold was chosen with flip TTA, README.txt says to average with the mirror, and its example does what predict does", async () => {
    const ttaModelDir = path.join(work, "tta-model");
    (await saveTinyModel(ttaModelDir, { ...tinyMetadata, tta: "flip" })).dispose();
    const out = path.join(work, "tta-export");
    await exportModel({ modelDir: ttaModelDir, format: "tfjs", out });
    const readme = await readFile(path.join(out, "README.txt"), "utf8");
    expect(readme).toContain("Test-time augmentation\n  The threshold was chosen on flip-averaged maps");
    // The example's two TTA lines, run as written on one image, give predict's flip-TTA map.
    const lines = readme.split("\n").filter((line) => /^ {4}const (maps|p) = /.test(line));
    expect(lines).toHaveLength(2);
    const { model } = await loadModelFolder(out);
    const pixels = Uint8Array.from({ length: TINY_SIZE * TINY_SIZE * 3 }, (_, i) => (i * 37 + (i % 7) * 11) % 256);
    const example = new Function("tf", "model", "x", `${lines.join("\n")}\nreturn p;`) as (t: typeof tf, m: tf.LayersModel, x: tf.Tensor3D) => tf.Tensor;
    const fromReadme = tf.tidy(() => example(tf, model, tf.tensor3d(pixels, [TINY_SIZE, TINY_SIZE, 3], "float32").div(127.5).sub(1) as tf.Tensor3D).dataSync());
    const fromPredict = await predictProbabilities(model, pixels, 1, TINY_SIZE, "imagenet", "flip");
    const plain = await predictProbabilities(model, pixels, 1, TINY_SIZE, "imagenet", "none");
    model.dispose();
    expect(Math.max(...fromPredict.map((v, i) => Math.abs(v - (fromReadme[i] ?? NaN))))).toBeLessThan(1e-6);
    expect(Math.max(...fromPredict.map((v, i) => Math.abs(v - (plain[i] ?? NaN))))).toBeGreaterThan(0.01); // the flip matters for this model
    expect(tfjsReadme(tinyMetadata, "mu-pipe")).not.toContain("Test-time augmentation");
    // TFLite's README and ONNX's doc string (feedingLines) say the same.
    expect(tfliteReadme({ ...tinyMetadata, tta: "flip" }, "m.tflite", "none", {})).toContain("Test-time augmentation\n  The threshold was chosen on flip-averaged maps");
    expect(feedingLines({ ...tinyMetadata, tta: "flip" })).toContain("Test-time augmentation");
    expect(feedingLines(tinyMetadata)).not.toContain("Test-time augmentation");
  });

  it("refuses an existing output without force, and replaces an earlier export with it", async () => {
    const out = path.join(work, "again");
    await exportModel({ modelDir, format: "tfjs", out });
    await writeFile(path.join(out, "stale.txt"), "from before");
    const refused = await exportModel({ modelDir, format: "tfjs", out }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ExportError);
    expect((refused as ExportError).message).toBe(`${out} already exists; pass --force to replace it`);

    await exportModel({ modelDir, format: "tfjs", out, force: true });
    expect((await readdir(out)).sort()).toEqual(["README.txt", "model.json", "mu-model.json", "weights.bin"]);
  });

  it("does not replace a folder that is not an earlier export, even with force", async () => {
    const out = path.join(work, "photos");
    await mkdir(out);
    await writeFile(path.join(out, "eye.jpg"), "not really");
    await expect(exportModel({ modelDir, format: "tfjs", out, force: true })).rejects.toThrow(
      `${out}: is a folder that holds files but no model.json or mu-model.json, so not an earlier export; not replacing it, even with --force`,
    );
    expect(await readdir(out)).toEqual(["eye.jpg"]);
  });

  it("does not export a model onto itself", async () => {
    await expect(exportModel({ modelDir, format: "tfjs", out: modelDir, force: true })).rejects.toThrow("is (or holds) the model being exported");
    expect((await readdir(modelDir)).sort()).toEqual(["model.json", "mu-model.json", "weights.bin"]);
  });
});
