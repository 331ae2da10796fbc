/**
 * The `export` stage in an experiment: its files are cached like any stage's, a failed
 * check fails the stage, and the run's report shows sizes and F1 after quantisation.
 * The model and tensors come from a plugin stage that copies fixture folders.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import { EXPORTS_JSON, type ExportsFile } from "../../stages/export/export-stage-params.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { captureIO } from "./tiny-model.js";
import { pythonTfProblem, writeSegmentingFixture } from "./tflite-fixtures.js";

const skip = skipUnlessAvailable("Python TensorFlow (python3 with tensorflow and numpy)", pythonTfProblem());

/** A stage type that hands fixture folders on as its outputs `model` and `tensors`. */
const PLUGIN = `import { cp } from "node:fs/promises";
import path from "node:path";
export const stageTypes = [{
  name: "fixture-files",
  version: 1,
  description: "copies a model folder and a tensors folder",
  paramsSchema: { type: "object", additionalProperties: false, properties: { model: { type: "string" }, tensors: { type: "string" } } },
  inputs: {},
  externalInputs: (params, baseDir) => [path.resolve(baseDir, params.model), path.resolve(baseDir, params.tensors)],
  outputs: { model: { description: "a model folder" }, tensors: { description: "tensors" } },
  async run(ctx) {
    await cp(path.resolve(ctx.baseDir, ctx.params.model), path.join(ctx.outDir, "model"), { recursive: true });
    await cp(path.resolve(ctx.baseDir, ctx.params.tensors), path.join(ctx.outDir, "tensors"), { recursive: true });
  },
}];
`;

function experiment(name: string, tolerance: number): string {
  return `experiment: ${name}
settings: { runtime: { backend: cpu } }
stages:
  fixture:
    uses: fixture-files
    params: { model: model, tensors: tensors }
  ship:
    uses: export
    inputs: { model: fixture.model, tensors: fixture.tensors }
    params: { formats: [tfjs, tflite], quantize: [none], tolerance: ${tolerance} }
`;
}

let work: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-stage-"));
  await writeSegmentingFixture(work);
  await writeFile(path.join(work, "plugin.mjs"), PLUGIN);
  await writeFile(path.join(work, "ship.yaml"), experiment("ship", 0.01));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  const io = captureIO(work, { env: { ...process.env, MU_PIPE_PLUGINS: path.join(work, "plugin.mjs") } });
  const code = await main(argv, io);
  return { code, output: io.stdout() + io.stderr() };
}

describe.skipIf(skip)("the export stage", () => {
  it("writes checked files, reuses them on the next run, and reports sizes and F1", { timeout: 300_000 }, async () => {
    const first = await run("run", "ship.yaml");
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/\[ship\] done in .* tfjs_bytes=\d+ tflite_none_bytes=\d+ tfjs_f1=1 tflite_none_f1=1 tflite_none_f1_drop=0 tflite_none_ms=[\d.]+/);

    const exports = path.join(work, "runs", "latest", "artifacts", "ship", "exports");
    const record = JSON.parse(await readFile(path.join(exports, EXPORTS_JSON), "utf8")) as ExportsFile;
    expect(record.files.map((f) => [f.format, f.quantize, f.file])).toEqual([
      ["tfjs", "none", "tfjs"],
      ["tflite", "none", "mu_net_none.tflite"],
    ]);
    for (const file of ["tfjs/model.json", "mu_net_none.tflite", "mu_net_none.tflite.check.json", "mu_net_none.tflite.README.txt"]) {
      expect(existsSync(path.join(exports, file)), file).toBe(true);
    }

    const second = await run("run", "ship.yaml");
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain("[ship] reused (fingerprint matches a cached result)");

    const report = await readFile(path.join(work, "runs", "latest", "report.html"), "utf8");
    expect(report).toContain("Exports (checked on 4 test images at threshold");
    expect(report).toContain("mu_net_none.tflite");
    expect(report).toMatch(/KiB/);
  });

  it("fails when a file's F1 drops by more than the tolerance, naming the file and the param", { timeout: 300_000 }, async () => {
    await writeFile(path.join(work, "strict.yaml"), experiment("strict", 0).replace("quantize: [none]", "quantize: [int8], calibration_images: 4"));
    const result = await run("run", "strict.yaml");
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/mu_net_int8\.tflite: F1 drops by 0\.\d{4} \(1\.0000 -> 0\.\d{4}\), more than the tolerance 0/);
    expect(result.output).toContain("raise stages.ship.params.tolerance, or leave that quantisation out of stages.ship.params.quantize");
  });
});
