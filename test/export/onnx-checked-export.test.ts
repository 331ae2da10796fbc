/**
 * `export --format onnx`: written by the ONNX converter, run by onnxruntime-node on the
 * run's test split, and checked against the TF.js model like the TFLite export; the
 * export stage writes it too. No Python needed.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import { checkFileOf, type ExportCheckFile } from "../../stages/export/check/check-file.js";
import { readmeOf } from "../../stages/export/check/checked-export.js";
import { captureIO } from "./tiny-model.js";
import { writeSegmentingFixture, type SegmentingFixture } from "./tflite-fixtures.js";

let work: string;
let fixture: SegmentingFixture;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-onnx-"));
  fixture = await writeSegmentingFixture(work);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("mu-pipe export --format onnx", () => {
  it("writes the file, checks it on the test split against TF.js and says so; zero tolerance still passes an exact export", { timeout: 120_000 }, async () => {
    const out = path.join(work, "mu_net.onnx");
    const io = captureIO(work, { env: process.env });
    const code = await main(["export", fixture.modelDir, "--format", "onnx", "--out", out, "--tensors", fixture.tensorsDir, "--tolerance", "0"], io);
    expect(code, io.stderr()).toBe(0);
    expect(io.stdout()).toMatch(/F1 on 4 test images at threshold [\d.]+: TF\.js 1\.0000 \(\w+\), onnx 1\.0000, drop 0\.0000 \(tolerance 0\)/);
    expect(io.stdout()).toMatch(/latency: [\d.]+ ms per image \(onnxruntime-node, 1 thread, batch 1\)/);
    const check = JSON.parse(await readFile(checkFileOf(out), "utf8")) as ExportCheckFile;
    expect(check).toMatchObject({ format: "onnx", quantize: "none", passed: true, maskDisagreements: 0 });
    expect(check.probabilityDifference.max).toBeLessThan(1e-4);
    expect(await readFile(readmeOf(out), "utf8")).toContain("float32 [batch, 32, 32, 3] (NHWC, any batch)");
  });

  it("refuses a quantisation ONNX does not offer", async () => {
    const io = captureIO(work, { env: process.env });
    const code = await main(["export", fixture.modelDir, "--format", "onnx", "--out", path.join(work, "x.onnx"), "--tensors", fixture.tensorsDir, "--quantize", "int8"], io);
    expect(code).toBe(2);
    expect(io.stderr().split("\n")[0]).toBe("mu-pipe: --quantize must be none for onnx, not int8");
  });
});
