/**
 * The Keras export checked by Keras itself: Python loads the .h5 file with
 * `keras.models.load_model` and predicts on the batch TF.js predicts on. Skipped (saying so)
 * where Python lacks TensorFlow, Keras or h5py.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";

import { exportModel } from "../../stages/export/export-model.js";
import { readKerasWeights } from "../../stages/model/keras-h5.js";
import { layersModelWeights } from "../../stages/model/model-folder.js";
import { predict, saveTinyModel, tinyBatch, tinyMetadata, TINY_SIZE } from "./tiny-model.js";

/** Finds the modules without importing TensorFlow (which takes seconds); the test imports them once. */
const hasPythonTf =
  spawnSync("python3", ["-c", "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ('tensorflow', 'keras', 'h5py', 'numpy')) else 1)"], {
    stdio: "ignore",
    timeout: 30_000,
  }).status === 0;
const skip = skipUnlessAvailable("Python TensorFlow (python3 with tensorflow, keras, h5py, numpy)", hasPythonTf ? null : "python3 cannot import them");

const BATCH = 2;

/** Loads the export, predicts on the input, and reports what Keras made of the file. */
const SCRIPT = `
import json, sys
import h5py, keras, numpy as np
model_file, input_file, output_file = sys.argv[1:4]
model = keras.models.load_model(model_file, compile=False)
x = np.fromfile(input_file, dtype="<f4").reshape(${BATCH}, ${TINY_SIZE}, ${TINY_SIZE}, 3)
model.predict(x, verbose=0).astype("<f4").tofile(output_file)
with h5py.File(model_file, "r") as f:
    metadata = json.loads(f.attrs["mu_pipe_metadata"])
print(json.dumps({
    "keras": keras.__version__,
    "layers": [layer.name for layer in model.layers],
    "output_shape": list(model.output_shape),
    "metadata": metadata,
}))
`;

let work: string;
let model: tf.LayersModel;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-keras-"));
  model = await saveTinyModel(path.join(work, "model"));
});
afterAll(async () => {
  model.dispose();
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(skip)("keras export, loaded by Python Keras", () => {
  it("loads with keras.models.load_model and predicts what mu-pipe predicts, within 1e-4", async () => {
    const out = path.join(work, "mu_net.h5");
    await exportModel({ modelDir: path.join(work, "model"), format: "keras", out });

    const x = tinyBatch(BATCH);
    const inputFile = path.join(work, "input.f32");
    await writeFile(inputFile, Buffer.from((await x.data()).buffer));
    const expected = predict(model, x);
    x.dispose();

    const script = path.join(work, "load_export.py");
    await writeFile(script, SCRIPT);
    const outputFile = path.join(work, "output.f32");
    const python = spawnSync("python3", [script, out, inputFile, outputFile], {
      encoding: "utf8",
      timeout: 240_000,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3", CUDA_VISIBLE_DEVICES: "" },
    });
    expect(python.status, python.stderr).toBe(0);
    const report = JSON.parse(python.stdout.trim().split("\n").at(-1) ?? "") as { layers: string[]; output_shape: (number | null)[]; metadata: unknown };

    expect(report.layers).toEqual(model.layers.map((layer) => layer.name));
    expect(report.output_shape).toEqual([null, TINY_SIZE, TINY_SIZE, 1]);
    expect(report.metadata).toEqual(tinyMetadata);

    const bytes = await readFile(outputFile);
    const actual = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(actual).toHaveLength(expected.length);
    // Random weights give probabilities in a narrow band; cut at its median so masks are half sclera.
    const sorted = Float32Array.from(expected).sort();
    expect((sorted.at(-1) ?? 0) - (sorted[0] ?? 0)).toBeGreaterThan(0.01);
    const threshold = sorted[sorted.length >> 1] as number;
    let maxDifference = 0;
    let maskDisagreements = 0;
    for (let i = 0; i < expected.length; i++) {
      const [a, e] = [actual[i] as number, expected[i] as number];
      maxDifference = Math.max(maxDifference, Math.abs(a - e));
      if (a >= threshold !== e >= threshold && Math.abs(e - threshold) > 1e-4) maskDisagreements += 1;
    }
    expect(maxDifference).toBeLessThan(1e-4);
    expect(maskDisagreements).toBe(0);
  });
});

describe("keras export, read back with mu-pipe's HDF5 reader", () => {
  it("keeps every layer's weights under model_weights", async () => {
    const out = path.join(work, "weights-check.h5");
    await exportModel({ modelDir: path.join(work, "model"), format: "keras", out });
    const read = await readKerasWeights(out);
    const original = layersModelWeights(model);
    expect([...read.keys()]).toEqual([...original.keys()]);
    for (const [layer, weights] of original) {
      expect(read.get(layer)?.map((w) => [w.name, w.shape, Array.from(w.values)])).toEqual(weights.map((w) => [w.name, w.shape, Array.from(w.values)]));
    }
  });
});
