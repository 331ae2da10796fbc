/**
 * The cache follows content, not places. A tiny real pipeline (a folders dataset inside
 * the project, flip, resize, a fine-tune from the ImageNet weights behind
 * $MU_PIPE_WEIGHTS, threshold, predict with overlays):
 * - swapping the weights file for other bytes makes `status` rerun the fine-tune, and
 *   putting it back reuses it again;
 * - a copy of the project with its runs/, the original renamed away, reuses every
 *   stage, `mu-pipe predict --model latest` works, and a stage that reads the source
 *   photos (predict, for overlays) runs again from the copy's files.
 */
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../cli/main.js";
import type { RunRecord } from "../pipeline/formats.js";
import { captureIO } from "./capture-io.js";
import { repoRoot } from "./pipeline/engine-rig.js";
import { blobMask, patternPixels, writeMaskPng, writePng } from "./stages/resize-fixtures.js";

const WEIGHTS_NAME = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5";
const SHARED_WEIGHTS = path.join(repoRoot, "../shared/weights", WEIGHTS_NAME);

const EXPERIMENT = `experiment: portable
settings:
  seed: 3
stages:
  load:
    uses: load
    params:
      source: { kind: folders, images: data/images, masks: data/masks }
      split: { train: 0.5, val: 0.25, test: 0.25 }
  flip:
    uses: flip-augment
    inputs: { dataset: load.dataset }
    params: { splits: [train], flips: [horizontal] }
  resize:
    uses: resize
    inputs: { dataset: flip.dataset }
    params: { size: 32 }
  finetune:
    uses: finetune
    inputs: { tensors: resize.tensors }
    params:
      encoder: { weights: imagenet, allow_download: false }
      freeze: encoder
      epochs: 1
      batch_size: 4
  threshold:
    uses: threshold
    inputs: { model: finetune.best, tensors: resize.tensors }
    params: { split: train }
  predict:
    uses: predict
    inputs: { model: threshold.model, tensors: resize.tensors }
    params: { split: test, overlays: true }
`;
const STAGES = ["load", "flip", "resize", "finetune", "threshold", "predict"];

let root: string;
let project: string;
let weights: string;
const savedEnv = { weights: process.env["MU_PIPE_WEIGHTS"], kerasHome: process.env["KERAS_HOME"] };

async function cli(cwd: string, ...argv: string[]): Promise<string> {
  const io = captureIO(cwd);
  const code = await main(argv, io);
  expect(code, io.stdout() + io.stderr()).toBe(0);
  return io.stdout();
}

/** `status` as stage id -> the rest of its line. */
async function status(cwd: string): Promise<Record<string, string>> {
  const out = await cli(cwd, "status", "exp.yaml");
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => /^(\S+)\s+(.*)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1], (match[2] ?? "").replace(/\s+/g, " ")]),
  );
}

const allReused = Object.fromEntries(STAGES.map((id) => [id, "reuse fingerprint matches a cached result"]));

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(tmpdir(), "mu-pipe-portable-"));
  project = path.join(root, "project");
  for (let i = 0; i < 8; i++) {
    const [width, height] = [40 + i, 32];
    await writePng(path.join(project, "data/images", `eye${i}.png`), patternPixels(width, height, 3));
    await writeMaskPng(path.join(project, "data/masks", `eye${i}.png`), width, height, blobMask(width, height));
  }
  await fs.writeFile(path.join(project, "exp.yaml"), EXPERIMENT);
  weights = path.join(root, "weights", WEIGHTS_NAME);
  await fs.mkdir(path.dirname(weights));
  await fs.copyFile(SHARED_WEIGHTS, weights);
  process.env["MU_PIPE_WEIGHTS"] = weights;
  // An empty Keras cache: only the file behind MU_PIPE_WEIGHTS can be used.
  process.env["KERAS_HOME"] = path.join(root, "keras");
  await cli(project, "run", "exp.yaml");
});

afterAll(async () => {
  for (const [name, value] of [["MU_PIPE_WEIGHTS", savedEnv.weights], ["KERAS_HOME", savedEnv.kerasHome]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await fs.rm(root, { recursive: true, force: true });
});

describe("the cache follows content, not places", () => {
  it("reruns the fine-tune when the weights file behind MU_PIPE_WEIGHTS is swapped, and reuses it when it is back", async () => {
    expect(await status(project)).toEqual(allReused);
    const original = await fs.readFile(weights);
    const swapped = Buffer.from(original);
    swapped[swapped.length - 1] = (swapped[swapped.length - 1] ?? 0) ^ 0xff;
    await fs.writeFile(weights, swapped);
    expect(await status(project)).toEqual({
      ...allReused,
      finetune: `will run external imagenet-weights:${WEIGHTS_NAME} changed`,
      threshold: "will run upstream finetune will run",
      predict: "will run upstream threshold will run",
    });
    await fs.writeFile(weights, original);
    expect(await status(project)).toEqual(allReused);
  });

  it("reuses every stage in a copy of the project, whose runs still predict, after the original is gone", async () => {
    const copy = path.join(root, "copied", "elsewhere");
    await fs.mkdir(path.dirname(copy));
    execFileSync("cp", ["-a", project, copy]);
    await fs.rename(project, path.join(root, "gone"));

    expect(await status(copy)).toEqual(allReused);
    for (const id of STAGES) {
      const target = await fs.realpath(path.join(copy, "runs/latest/artifacts", id));
      expect(target.startsWith(path.join(copy, "runs/.store/")), `${id} -> ${target}`).toBe(true);
    }

    await cli(copy, "predict", "--model", "latest", "data/images", "--out", "masks");
    expect((await fs.readdir(path.join(copy, "masks/Binarised"))).sort()).toEqual([...Array(8).keys()].map((i) => `eye${i}.png`));

    // predict reads the source photos again (for overlays) through the tensors' manifest.
    await cli(copy, "run", "exp.yaml", "--force", "predict");
    const run = JSON.parse(await fs.readFile(path.join(copy, "runs/latest/run.json"), "utf8")) as RunRecord;
    expect(Object.fromEntries(run.stages.map((s) => [s.id, s.status]))).toEqual({ ...Object.fromEntries(STAGES.map((id) => [id, "reused"])), predict: "succeeded" });
  });
});
