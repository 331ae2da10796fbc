/**
 * The TFLite export, converted and run by Python TensorFlow: each quantisation checks
 * itself against the TF.js model on the test split and says what it found. Skipped
 * (saying so) where Python lacks TensorFlow.
 */
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import { checkFileOf, type ExportCheckFile } from "../../stages/export/check/check-file.js";
import { checkedExport, readmeOf } from "../../stages/export/check/checked-export.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { captureIO } from "./tiny-model.js";
import { pythonTfProblem, writeSegmentingFixture, type SegmentingFixture } from "./tflite-fixtures.js";

const skip = skipUnlessAvailable("Python TensorFlow (python3 with tensorflow and numpy)", pythonTfProblem());
const SLOW = 300_000;

let work: string;
let fixture: SegmentingFixture;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-tflite-"));
  fixture = await writeSegmentingFixture(work);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function exportAs(quantize: "none" | "float16" | "int8", tolerance = 0.01) {
  const out = path.join(work, `mu_net_${quantize}_${tolerance}.tflite`);
  return checkedExport({ modelDir: fixture.modelDir, tensorsDir: fixture.tensorsDir, format: "tflite", quantize, out, tolerance, calibrationImages: 4 });
}

describe.skipIf(skip)("tflite export with its self-check", () => {
  it("without quantisation predicts what TF.js predicts, within 1e-4", { timeout: SLOW }, async () => {
    const { check, out, facts } = await exportAs("none");
    expect(check.probabilityDifference.max).toBeLessThan(1e-4);
    expect(check.maskDisagreements).toBe(0);
    expect(check.f1).toEqual({ tfjs: 1, exported: 1, drop: 0 });
    expect(check.passed).toBe(true);
    expect(check.images).toBe(4);
    expect(check.threshold).toBe(fixture.metadata.threshold);
    expect(facts.input).toMatchObject({ dtype: "float32", shape: [1, 32, 32, 3] });
    expect(check.bytes).toBeGreaterThan(100_000);
    // The JSON next to the file holds the same facts.
    expect(JSON.parse(await readFile(checkFileOf(out), "utf8"))).toEqual(check);
    expect(await readFile(readmeOf(out), "utf8")).toContain("float32 [1, 32, 32, 3]: pixel values x scaled as x / 127.5 - 1");
  });

  it("float16 halves the file and stays close to TF.js", { timeout: SLOW }, async () => {
    const none = JSON.parse(await readFile(checkFileOf(path.join(work, "mu_net_none_0.01.tflite")), "utf8")) as ExportCheckFile;
    const { check } = await exportAs("float16");
    expect(check.bytes).toBeLessThan(none.bytes * 0.6);
    expect(check.probabilityDifference.max).toBeLessThan(0.05);
    expect(check.probabilityDifference.max).toBeGreaterThan(0);
  });

  it("int8 takes camera bytes and gives uint8; with tolerance 0 its F1 drop fails the check, keeping the file", { timeout: SLOW }, async () => {
    const { check, out, facts } = await exportAs("int8", 0);
    // The scaling is inside the model: a byte is its own value.
    expect(facts.input).toEqual({ dtype: "uint8", shape: [1, 32, 32, 3], scale: 1, zero_point: 0 });
    expect(facts.output).toMatchObject({ dtype: "uint8", shape: [1, 32, 32, 1] });
    // Fed raw bytes, it still segments much as TF.js does...
    expect(check.probabilityDifference.mean).toBeLessThan(0.05);
    expect(check.f1.exported).toBeGreaterThan(0.7);
    // ...but not exactly, and tolerance 0 says so.
    expect(check.f1.drop).toBeGreaterThan(0);
    expect(check.passed).toBe(false);
    expect(check.note).toMatch(/^F1 drops by 0\.\d{4} \(1\.0000 -> 0\.\d{4}\), more than the tolerance 0; the file is kept/);
    expect(existsSync(out)).toBe(true);
    expect(await readFile(readmeOf(out), "utf8")).toContain("uint8 [1, 32, 32, 3]: the camera's RGB bytes 0..255 as they are, no scaling.");
  });

  it("mu-pipe export prints the check and exits 1 when F1 drops by more than --tolerance", { timeout: SLOW }, async () => {
    const io = captureIO(work, { env: process.env });
    const code = await main(["export", "model", "--tensors", "tensors", "--format", "tflite", "--quantize", "int8", "--calibration-images", "4", "--tolerance", "0", "--out", "cli.tflite"], io);
    expect(code, io.stderr()).toBe(1);
    expect(io.stdout()).toMatch(/F1 on 4 test images at threshold [\d.]+: TF.js 1\.0000 \(\w+\), tflite 0\.\d{4}, drop 0\.\d{4} \(tolerance 0\)/);
    expect(io.stdout()).toMatch(/size: [\d.]+ KiB \(TF.js weights [\d.]+ KiB\)/);
    expect(io.stdout()).toContain("check: FAILED");
    expect(io.stderr()).toMatch(/export check failed: F1 drops by/);
    expect(existsSync(path.join(work, "cli.tflite.check.json"))).toBe(true);
  });
});

describe("tflite export without Python TensorFlow", () => {
  async function exportWith(python: string) {
    const io = captureIO(work, { env: { ...process.env, MU_PIPE_PYTHON: python } });
    const code = await main(["export", "model", "--tensors", "tensors", "--format", "tflite", "--out", "no-tf.tflite"], io);
    return { code, stderr: io.stderr() };
  }

  it("says how to get it when the python cannot import tensorflow, and writes nothing", async () => {
    // python3 -S skips site-packages, where pip puts TensorFlow.
    const python = path.join(work, "python-without-tf");
    await writeFile(python, '#!/bin/sh\nexec python3 -S "$@"\n');
    await chmod(python, 0o755);
    const { code, stderr } = await exportWith(python);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `mu-pipe: converting to TFLite needs Python TensorFlow (${python} cannot import tensorflow): run \`mu-pipe setup tensorflow\`, or point MU_PIPE_PYTHON at a Python that has it\n`,
    );
    expect(existsSync(path.join(work, "no-tf.tflite"))).toBe(false);
    expect(existsSync(path.join(work, "no-tf.tflite.check.json"))).toBe(false);
  });

  it("says the same when there is no such python", async () => {
    const { code, stderr } = await exportWith("/nonexistent/python3");
    expect(code).toBe(2);
    expect(stderr).toContain("mu-pipe: converting to TFLite needs Python TensorFlow (/nonexistent/python3 was not found): run `mu-pipe setup tensorflow`");
  });
});
