import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { StageRunEntry } from "../../pipeline/formats.js";
import { captureIO, saveTinyModel, tinyMetadata } from "./tiny-model.js";

let work: string;
/** A valid model folder, copied into runs as their stage outputs. */
let modelDir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-cli-"));
  modelDir = path.join(work, "model");
  (await saveTinyModel(modelDir)).dispose();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function run(cwd: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO(cwd);
  const code = await main(["export", ...argv], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

function stage(id: string, uses: string, status: StageRunEntry["status"] = "succeeded"): StageRunEntry {
  return { id, uses, status, reason: "test", fingerprintKey: null, artifactDigest: null, startedAt: null, finishedAt: null, durationMs: null, error: null };
}

/** A run folder with run.json and, per stage, `artifacts/<id>` linking to a store folder holding `outputs`. */
async function makeRun(root: string, id: string, stages: StageRunEntry[], outputs: Record<string, Record<string, number | null>>): Promise<string> {
  const dir = path.join(root, "runs", id);
  await mkdir(path.join(dir, "artifacts"), { recursive: true });
  const experiment = id.replace(/^\d{8}T\d{6}Z-/, "");
  const record = { version: 1, id, experiment, configFile: `${experiment}.yaml`, status: "succeeded", startedAt: "2026-11-26T02:00:00.000Z", finishedAt: "2026-11-26T02:10:00.000Z", argv: [], pid: 1, hostname: "test", stages };
  await writeFile(path.join(dir, "run.json"), JSON.stringify(record));
  for (const [stageId, models] of Object.entries(outputs)) {
    const stored = path.join(root, "runs", ".store", `${id}-${stageId}`);
    for (const [name, threshold] of Object.entries(models)) {
      await cp(modelDir, path.join(stored, name), { recursive: true });
      const metadata = { ...tinyMetadata, threshold, createdBy: `${stageId}/${name}` };
      await writeFile(path.join(stored, name, "mu-model.json"), JSON.stringify(metadata));
    }
    await symlink(path.relative(path.join(dir, "artifacts"), stored), path.join(dir, "artifacts", stageId));
  }
  return dir;
}

async function exportedMetadata(dir: string): Promise<{ createdBy: string; threshold: number | null }> {
  return JSON.parse(await readFile(path.join(dir, "mu-model.json"), "utf8")) as { createdBy: string; threshold: number | null };
}

describe("mu-pipe export: which model", () => {
  let root: string;
  beforeAll(async () => {
    root = path.join(work, "project");
    const finetunes = { finetune1: { best: null, last: null }, finetune2: { best: null, last: null } };
    await makeRun(root, "20261126T020000Z-eyes", [stage("load", "load"), stage("finetune1", "finetune"), stage("finetune2", "finetune", "reused")], finetunes);
    await makeRun(root, "20261126T030000Z-eyes", [stage("finetune1", "finetune"), stage("finetune2", "finetune"), stage("threshold", "threshold")], {
      ...finetunes,
      threshold: { model: 0.37 },
    });
    await makeRun(root, "20261126T040000Z-prep", [stage("load", "load"), stage("finetune1", "finetune", "failed")], {});
  });

  it("exports the threshold stage's model of a run that has one", async () => {
    const result = await run(root, "20261126T03", "--format", "tfjs", "--out", "web");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("exported run 20261126T030000Z-eyes (stage threshold, the best model with its threshold) as a TF.js LayersModel: web");
    expect(await exportedMetadata(path.join(root, "web"))).toMatchObject({ createdBy: "threshold/model", threshold: 0.37 });
  });

  it("exports the last finetune stage's best model when the run has no threshold stage, or its last with --model last", async () => {
    expect((await run(root, "20261126T02", "--format", "tfjs", "--out", "best")).code).toBe(0);
    expect(await exportedMetadata(path.join(root, "best"))).toMatchObject({ createdBy: "finetune2/best", threshold: null });
    expect((await run(root, "20261126T03", "--model", "last", "--format", "tfjs", "--out", "last")).code).toBe(0);
    expect(await exportedMetadata(path.join(root, "last"))).toMatchObject({ createdBy: "finetune2/last" });
  });

  it("names the run and its stages when no finetune stage finished", async () => {
    const result = await run(root, "prep", "--format", "tfjs", "--out", "nothing");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "mu-pipe: prep = 20261126T040000Z-prep has no trained model (no finetune stage of it finished; stages: load (load, succeeded), finetune1 (finetune, failed)); " +
        "no prep run has a trained model; train one with `mu-pipe run`, or export a model folder\n",
    );
  });

  it("exports a model folder given directly, and prints how to load a Keras file", async () => {
    const result = await run(work, "model", "--format", "keras", "--out", "out/mu_net.h5");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("exported model folder model as a Keras HDF5 file: out/mu_net.h5");
    expect(result.stdout).toContain('keras.models.load_model("out/mu_net.h5", compile=False)');
    expect(result.stdout).toContain("scale every value: x / 127.5 - 1");
  });
});

describe("mu-pipe export: bad input", () => {
  it("names a folder that is a TF.js model but not a mu-pipe one, and what is missing", async () => {
    const foreign = path.join(work, "foreign");
    await mkdir(foreign);
    await cp(path.join(modelDir, "model.json"), path.join(foreign, "model.json"));
    const result = await run(work, "./foreign", "--format", "tfjs", "--out", "x");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`mu-pipe: ${foreign}: a TF.js model but not a mu-pipe model folder: it has no mu-model.json (input size, input scaling, threshold)\n`);
  });

  it("names a folder that is neither a model nor a run", async () => {
    const empty = path.join(work, "empty");
    await mkdir(empty);
    const result = await run(work, "empty", "--format", "tfjs", "--out", "x");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`mu-pipe: ${empty}: neither a mu-pipe model folder (no mu-model.json) nor a run (no run.json)\n`);
  });

  it("says what is wrong with another tool's mu-model.json", async () => {
    const other = path.join(work, "other-tool");
    await cp(modelDir, other, { recursive: true });
    await writeFile(path.join(other, "mu-model.json"), JSON.stringify({ format: "something-else" }));
    const result = await run(work, "other-tool", "--format", "keras", "--out", "other.h5");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`mu-pipe: ${other}: mu-model.json: format is "something-else", expected "mu-pipe-model"\n`);
  });

  it("refuses an existing output without --force and replaces it with --force", async () => {
    const out = path.join(work, "taken.h5");
    await writeFile(out, "an older file");
    const refused = await run(work, "model", "--format", "keras", "--out", "taken.h5");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`mu-pipe: ${out} already exists; pass --force to replace it\n`);
    expect(await readFile(out, "utf8")).toBe("an older file");

    const forced = await run(work, "model", "--format", "keras", "--out", "taken.h5", "--force");
    expect(forced.code).toBe(0);
    expect((await readFile(out)).subarray(0, 4).toString("latin1")).toBe("\x89HDF");
  });

  it("rejects an unknown format, a missing --out, and a Keras file name Keras would not load as HDF5", async () => {
    const format = await run(work, "model", "--format", "savedmodel", "--out", "x");
    expect(format.code).toBe(2);
    expect(format.stderr.split("\n")[0]).toBe("mu-pipe: --format must be tfjs, keras, web, tflite or onnx, not savedmodel");
    const out = await run(work, "model", "--format", "tfjs");
    expect(out.stderr.split("\n")[0]).toBe("mu-pipe: missing --out (a folder to write)");
    const name = await run(work, "model", "--format", "keras", "--out", "mu_net.keras");
    expect(name.code).toBe(2);
    expect(name.stderr).toBe(`mu-pipe: ${path.join(work, "mu_net.keras")}: a Keras export is one HDF5 file whose name ends in .h5 or .hdf5 (Keras picks the loader by the extension)\n`);
  });

  it("rejects tflite options that do not fit, before any conversion", async () => {
    const first = async (...argv: string[]) => {
      const result = await run(work, "model", ...argv);
      expect(result.code).toBe(2);
      return result.stderr.split("\n")[0];
    };
    expect(await first("--format", "tfjs", "--out", "web", "--quantize", "int8")).toBe("mu-pipe: --quantize is for --format tflite or onnx, not tfjs");
    expect(await first("--format", "tflite", "--out", "m.tflite", "--quantize", "int4")).toBe("mu-pipe: --quantize must be none, float16 or int8 for tflite, not int4");
    expect(await first("--format", "tflite", "--out", "m.tflite", "--tolerance", "2")).toBe("mu-pipe: --tolerance must be an F1 difference from 0 to 1, not 2");
    expect(await first("--format", "tflite", "--out", "m.tflite", "--calibration-images", "10")).toBe("mu-pipe: --calibration-images is for --quantize int8");
    expect(await first("--format", "tflite", "--out", "m.tflite")).toBe(
      "mu-pipe: a tflite export checks itself on test images: pass --tensors <dir> (a resize stage's output) with a model folder",
    );
  });
});

describe("mu-pipe export as a process", () => {
  it("does not print TF.js's \"install our node backend\" banner", async () => {
    const cli = path.join(import.meta.dirname, "..", "..", "bin", "mu-pipe.js");
    const out = path.join(work, "banner-check");
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, "export", modelDir, "--format", "tfjs", "--out", out]);
    expect(stdout).toContain("exported model folder");
    expect(stderr).toBe("");
  });
});
