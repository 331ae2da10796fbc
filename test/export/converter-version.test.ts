/**
 * The export stage's cache key names the TensorFlow that converts to TFLite: the
 * METADATA (name, version) of the package Python imports as `tensorflow`, so an upgrade
 * converts and checks the files again instead of reusing the old converter's.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { exportStage } from "../../stages/export/export-stage.js";
import { converterInputs, tensorflowMetadataFile } from "../../stages/export/tflite/python-tensorflow.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { pythonTfProblem } from "./tflite-fixtures.js";

const noPythonTf = skipUnlessAvailable("Python TensorFlow (python3 with tensorflow and numpy)", pythonTfProblem());

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "mu-converter-version-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stand-in for python3 that answers the METADATA question with `answer` (and fails without one). */
async function fakePython(name: string, answer: string | null): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, answer === null ? "#!/bin/sh\nexit 1\n" : `#!/bin/sh\necho '${answer}'\n`);
  await chmod(file, 0o755);
  return file;
}

describe("the TFLite converter's version in the export stage's key", () => {
  it("declares Python TensorFlow's METADATA, keyed by name not path, for tflite formats only", async () => {
    const metadata = path.join(dir, "tensorflow_cpu-2.21.0.dist-info-METADATA");
    await writeFile(metadata, "Name: tensorflow-cpu\nVersion: 2.21.0\n");
    const env = { ...process.env, MU_PIPE_PYTHON: await fakePython("python-with-tf", metadata) };
    expect(converterInputs(env)).toEqual([
      { path: metadata, about: `the TensorFlow package of ${env.MU_PIPE_PYTHON} (its METADATA: name and version), which converts to TFLite`, key: "python-tensorflow:METADATA" },
    ]);
    const saved = process.env.MU_PIPE_PYTHON;
    process.env.MU_PIPE_PYTHON = env.MU_PIPE_PYTHON;
    try {
      const declared = (formats: string[]) => exportStage.externalInputs?.({ formats }, dir, new Set()) ?? [];
      expect(declared(["tfjs", "tflite"])).toHaveLength(1);
      expect(declared(["tfjs", "keras"])).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.MU_PIPE_PYTHON;
      else process.env.MU_PIPE_PYTHON = saved;
    }
  });

  it("declares nothing when Python or its TensorFlow is missing (the stage then fails, saying so)", async () => {
    expect(converterInputs({ ...process.env, MU_PIPE_PYTHON: await fakePython("python-without-tf", null) })).toEqual([]);
    expect(converterInputs({ ...process.env, MU_PIPE_PYTHON: path.join(dir, "no-such-python") })).toEqual([]);
  });

  it.skipIf(noPythonTf)("finds the real METADATA of python3's TensorFlow, with its version", async () => {
    const file = tensorflowMetadataFile({ ...process.env, MU_PIPE_PYTHON: "python3" });
    expect(file).toMatch(/tensorflow[^/]*\.dist-info\/METADATA$/);
    expect(await readFile(file ?? "", "utf8")).toMatch(/^Version: \d+\.\d+/m);
  });
});
