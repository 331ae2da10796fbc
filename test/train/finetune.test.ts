/**
 * The finetune stage end to end on the pure-JS backend with a tiny MU-Net (32x32 input,
 * decoder [8, 8, 8, 8], random or fixture encoder weights) and 4 training images, so
 * one epoch is one step. Nothing here trains a real model.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { writeKerasWeights } from "../../stages/model/keras-h5.js";
import { loadModelFolder, saveModelFolder } from "../../stages/model/model-folder.js";
import { buildMuNet, encoderLayerNames, kerasBlockIndex } from "../../stages/model/mu-net.js";
import { FINETUNE_OUTPUTS } from "../../stages/train/finetune-params.js";
import { finetuneStage } from "../../stages/train/finetune.js";
import { runFinetune } from "../../stages/train/run-finetune.js";
import { TempDirs, testContext, tinyParams, weightSnapshot, writeTensorFixture } from "./fixtures.js";

const temp = new TempDirs();
let root: string;
let tensors: string;
let run = 0;

beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await temp.make();
  tensors = await writeTensorFixture(root, { size: 32, counts: { train: 4, val: 2 } });
});

afterAll(() => temp.cleanup());

function freshDirs(): { outDir: string; scratchDir: string } {
  run++;
  return { outDir: path.join(root, `out-${run}`), scratchDir: path.join(root, `scratch-${run}`) };
}

async function lastModelWeights(outDir: string, output: "best" | "last" = "last"): Promise<Map<string, Float32Array>> {
  const { model } = await loadModelFolder(path.join(outDir, output));
  try {
    return weightSnapshot(model, () => true);
  } finally {
    model.dispose();
  }
}

/** Weight keys (layer/weight) whose values differ between two snapshots. */
function changed(before: Map<string, Float32Array>, after: Map<string, Float32Array>): Set<string> {
  const out = new Set<string>();
  for (const [key, values] of before) {
    const other = after.get(key);
    if (other === undefined) throw new Error(`no weight ${key} after training`);
    if (values.some((v, i) => v !== other[i])) out.add(key);
  }
  return out;
}

const layerOf = (key: string): string => key.split("/")[0] as string;
/** Kernels and BN gammas: weights that get a gradient whenever their layer trains. */
const isTrainedWeight = (key: string): boolean => /\/(kernel|depthwise_kernel|gamma)$/.test(key);

describe("two-stage fine-tuning", () => {
  let encoder: Set<string>;
  let stage1Out: string;
  let stage1Start: Map<string, Float32Array>;

  beforeAll(async () => {
    // Stage 1 starts from a Keras .h5 written from a tiny MU-Net (the `path` weights option).
    const source = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] });
    encoder = new Set(encoderLayerNames(source));
    const h5 = path.join(root, "encoder.h5");
    await writeKerasWeights(h5, source);
    const sourceEncoder = weightSnapshot(source, (name) => encoder.has(name));
    source.dispose();

    const dirs = freshDirs();
    stage1Out = dirs.outDir;
    const t = testContext(tinyParams({ epochs: 1, freeze: "encoder", encoder: { weights: h5 } }), { tensors }, dirs);
    await runFinetune(t.ctx, { onModelReady: (model) => (stage1Start = weightSnapshot(model, () => true)) });
    for (const [key, values] of sourceEncoder) expect([key, Array.from(stage1Start.get(key) ?? [])]).toEqual([key, Array.from(values)]);
  });

  test("stage 1 (freeze encoder) leaves every encoder weight unchanged and changes the decoder", async () => {
    const after = await lastModelWeights(stage1Out);
    const moved = changed(stage1Start, after);
    const encoderMoved = [...moved].filter((key) => encoder.has(layerOf(key)));
    expect(encoderMoved).toEqual([]); // BatchNorm moving statistics included
    const decoderKeys = [...stage1Start.keys()].filter((key) => !encoder.has(layerOf(key)) && isTrainedWeight(key));
    expect(decoderKeys.length).toBeGreaterThan(8);
    expect(decoderKeys.filter((key) => !moved.has(key))).toEqual([]);
  });

  test("stage 2 (freeze none) starts from stage 1's best model and changes encoder and decoder", async () => {
    let start = new Map<string, Float32Array>();
    const dirs = freshDirs();
    const t = testContext(tinyParams({ epochs: 1, freeze: "none" }), { tensors, model: path.join(stage1Out, FINETUNE_OUTPUTS.best) }, dirs);
    await runFinetune(t.ctx, { onModelReady: (model) => (start = weightSnapshot(model, () => true)) });
    expect(changed(await lastModelWeights(stage1Out, "best"), start)).toEqual(new Set());
    expect(t.logs.some((line) => line.includes("(from its metadata; params.model and params.encoder are ignored)"))).toBe(true);

    const moved = changed(start, await lastModelWeights(dirs.outDir));
    const trained = [...start.keys()].filter(isTrainedWeight);
    expect(trained.filter((key) => !moved.has(key))).toEqual([]);
    expect(trained.some((key) => encoder.has(layerOf(key)))).toBe(true);
  });

  test("encoder weights can come from a TF.js LayersModel folder", async () => {
    const source = buildMuNet({ inputSize: 32, decoderFilters: [8, 8, 8, 8] });
    const folder = path.join(root, "tfjs-source");
    await saveModelFolder(source, folder, { version: 1, format: "mu-pipe-model", alpha: 0.35, inputSize: 32, decoderFilters: [8, 8, 8, 8], inputScaling: "imagenet", threshold: null, createdBy: "test" });
    const sourceEncoder = weightSnapshot(source, (name) => encoder.has(name));
    source.dispose();
    let start = new Map<string, Float32Array>();
    const t = testContext(tinyParams({ epochs: 1, freeze: "encoder", encoder: { weights: folder } }), { tensors }, freshDirs());
    await runFinetune(t.ctx, { onModelReady: (model) => (start = weightSnapshot(model, () => true)) });
    expect(sourceEncoder.size).toBeGreaterThan(100);
    for (const [key, values] of sourceEncoder) expect([key, Array.from(start.get(key) ?? [])]).toEqual([key, Array.from(values)]);
    expect(t.logs.some((line) => line.includes("(TF.js LayersModel), 80 layers loaded"))).toBe(true);
  });

  test("freeze below block_6 keeps blocks 0-5 fixed and trains block 6 and up", async () => {
    let start = new Map<string, Float32Array>();
    const dirs = freshDirs();
    const t = testContext(tinyParams({ epochs: 1, freeze: { below: "block_6" } }), { tensors, model: path.join(stage1Out, FINETUNE_OUTPUTS.best) }, dirs);
    await runFinetune(t.ctx, { onModelReady: (model) => (start = weightSnapshot(model, () => true)) });
    const moved = changed(start, await lastModelWeights(dirs.outDir));
    const below = [...start.keys()].filter((key) => {
      const block = kerasBlockIndex(layerOf(key));
      return block !== null && block < 6;
    });
    expect(below.filter((key) => moved.has(key))).toEqual([]);
    const above = [...start.keys()].filter((key) => isTrainedWeight(key) && (kerasBlockIndex(layerOf(key)) ?? 99) >= 6);
    expect(above).toContain("block_6_expand/kernel");
    expect(above.filter((key) => !moved.has(key))).toEqual([]);
  });
});

describe("training", () => {
  const tensorCounts: number[] = [];
  let history: string;
  let metrics: Record<string, unknown>;
  let progress: string[];

  beforeAll(async () => {
    const dirs = freshDirs();
    const t = testContext(tinyParams({ epochs: 4, freeze: "none", optimizer: { name: "adam", lr: 1e-2 } }), { tensors }, dirs);
    const outcome = await runFinetune(t.ctx, { onEpochEnd: () => tensorCounts.push(tf.memory().numTensors) });
    metrics = outcome.metrics ?? {};
    progress = t.progress.map((p) => p.message ?? "");
    history = await readFile(path.join(dirs.outDir, FINETUNE_OUTPUTS.history), "utf8");
    expect(JSON.parse(await readFile(path.join(dirs.outDir, FINETUNE_OUTPUTS.metrics), "utf8"))).toMatchObject(metrics);
  });

  test("the loss falls on a learnable task (mask = bright red pixels)", () => {
    const rows = history.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
    expect(rows.map((r) => r[0])).toEqual([1, 2, 3, 4]);
    const losses = rows.map((r) => r[1] as number);
    expect(losses[3]).toBeLessThan((losses[0] as number) * 0.9);
  });

  test("no tensor leaks: the same tensor count after epoch 1 and epoch 3", () => {
    expect(tensorCounts).toHaveLength(4);
    expect(tensorCounts[2]).toBe(tensorCounts[0]);
  });

  test("history columns, metrics and progress messages", () => {
    expect(history.split("\n")[0]).toBe("epoch,loss,val_loss,dice,precision,recall,lr,seconds,images_per_second");
    expect(metrics).toMatchObject({ epochs_run: 4, backend: "cpu", threads: 1, stopped_early: false });
    for (const key of ["best_val_dice", "best_val_loss", "best_epoch", "train_images_per_second", "trainable_params", "frozen_params", "backend_version"]) {
      expect(metrics[key], key).not.toBeNull();
    }
    expect(progress).toContain("epoch 3/4 batch 1/1 loss " + progress[2]?.split("loss ")[1]);
    expect(progress[0]).toMatch(/^epoch 1\/4 batch 1\/1 loss \d\.\d{3}$/);
  });
});

test("resumes an interrupted run at the epoch it was in; history has every epoch once", async () => {
  const dirs = freshDirs();
  const params = tinyParams({ epochs: 3 });
  const controller = new AbortController();
  // One batch per epoch: abort as soon as epoch 2's batch is done (epoch 1 is checkpointed).
  const first = testContext(params, { tensors }, dirs, { signal: controller.signal, onProgress: (u) => u.current === 2 && controller.abort() });
  await expect(runFinetune(first.ctx)).rejects.toThrow();
  expect(existsSync(path.join(dirs.outDir, FINETUNE_OUTPUTS.history))).toBe(false);

  const second = testContext(params, { tensors }, { ...dirs, outDir: `${dirs.outDir}-2` });
  const outcome = await runFinetune(second.ctx);
  expect(second.logs.filter((line) => line.startsWith("resuming"))).toEqual(["resuming from epoch 2 (checkpoint after epoch 1, lr 0.01)"]);
  expect(second.progress[0]?.message).toMatch(/^epoch 2\/3 /);
  const history = await readFile(path.join(`${dirs.outDir}-2`, FINETUNE_OUTPUTS.history), "utf8");
  expect(history.trim().split("\n").slice(1).map((line) => line.split(",")[0])).toEqual(["1", "2", "3"]);
  expect(outcome.metrics?.epochs_run).toBe(3);
});

describe("NaN loss", () => {
  test("a poisoned weight in epoch 2 stops training, keeps epoch 1's checkpoint and fails saying so", async () => {
    const dirs = freshDirs();
    const t = testContext(tinyParams({ epochs: 3 }), { tensors }, dirs);
    const poison = (_row: unknown, model: tf.LayersModel): void => {
      const kernel = model.getLayer("head_conv").getWeights()[0] as tf.Tensor;
      model.getLayer("head_conv").setWeights([tf.fill(kernel.shape, Number.NaN), model.getLayer("head_conv").getWeights()[1] as tf.Tensor]);
    };
    const kept = path.join(dirs.scratchDir, "kept");
    await expect(runFinetune(t.ctx, { onEpochEnd: poison })).rejects.toThrow(
      `finetune: loss became NaN in epoch 2, batch 1; stopped. Kept the last good checkpoint (after epoch 1; best epoch 1, loss `,
    );
    const { model } = await loadModelFolder(path.join(kept, "last"));
    const head = Array.from(model.getLayer("head_conv").getWeights()[0]?.dataSync() ?? []);
    model.dispose();
    expect(head.length).toBeGreaterThan(0);
    expect(head.every(Number.isFinite)).toBe(true);
    expect(existsSync(path.join(kept, "best", "model.json"))).toBe(true);
  });

  test("an absurd learning rate fails in epoch 1 with no checkpoint to keep", async () => {
    const t = testContext(tinyParams({ epochs: 2, freeze: "none", optimizer: { lr: 1e30 } }), { tensors }, freshDirs());
    await expect(runFinetune(t.ctx)).rejects.toThrow(/^finetune: loss became (NaN|Infinity) in epoch 1 .*no good checkpoint to keep; lower optimizer.lr \(now 1e\+30\)/);
  });
});

describe("bad input", () => {
  test("batch larger than the training set", async () => {
    const t = testContext(tinyParams({ batch_size: 5 }), { tensors }, freshDirs());
    await expect(runFinetune(t.ctx)).rejects.toThrow("finetune: batch_size 5 is larger than the training set (4 items); lower batch_size to at most 4");
    const limited = testContext(tinyParams({ batch_size: 3, limit: 2 }), { tensors }, freshDirs());
    await expect(runFinetune(limited.ctx)).rejects.toThrow("finetune: batch_size 3 is larger than the training set (2 items (limit 2)); lower batch_size to at most 2");
  });

  test("unknown freeze block", async () => {
    const t = testContext(tinyParams({ freeze: { below: "block_16" } }), { tensors }, freshDirs());
    await expect(runFinetune(t.ctx)).rejects.toThrow(/^freeze.below: unknown encoder block "block_16"; valid: block_0, block_1, .*, block_13$/);
  });

  test("tensors whose size is not a multiple of 32", async () => {
    const odd = await writeTensorFixture(await temp.make(), { size: 40, counts: { train: 4 } });
    const t = testContext(tinyParams({}), { tensors: odd }, freshDirs());
    await expect(runFinetune(t.ctx)).rejects.toThrow(
      `finetune: MU-Net takes square images whose side is a multiple of 32, and the tensors are 40x40; use 32 or 64 (${odd}); change the resize stage's params.size`,
    );
  });

  test("a weights file for another alpha", async () => {
    const other = buildMuNet({ alpha: 0.5, inputSize: 32, decoderFilters: [8, 8, 8, 8] });
    const h5 = path.join(root, "alpha-0.5.h5");
    await writeKerasWeights(h5, other);
    other.dispose();
    const t = testContext(tinyParams({ encoder: { weights: h5 } }), { tensors }, freshDirs());
    await expect(runFinetune(t.ctx)).rejects.toThrow(`encoder weights ${h5}: block_13_expand kernel is [1,1,48,288], alpha 0.35 needs [1,1,32,192] (the file is for alpha 0.5)`);
  });
});

test("without a val split it fails, saying why, instead of judging epochs on the training split", async () => {
  const noVal = await writeTensorFixture(await temp.make(), { size: 32, counts: { train: 6 } });
  const t = testContext(tinyParams({ epochs: 1, limit: 4 }), { tensors: noVal }, freshDirs());
  await expect(runFinetune(t.ctx)).rejects.toThrow(
    "finetune: the val split of the tensors is empty, but early stopping, reduce-LR and the best checkpoint are judged on the val loss, and best_val_dice is measured on it; give the load stage's split a val share (split.val)",
  );
});

test("externalInputs: the encoder weights join the fingerprint, unless the encoder comes from a `model` input", () => {
  const external = (weights: string, connected: string[] = ["tensors"]): unknown[] =>
    finetuneStage.externalInputs?.(tinyParams({ encoder: { weights } }) as never, "/exp", new Set(connected)) ?? [];
  expect(external("weights/enc.h5")).toEqual([{ path: "/exp/weights/enc.h5", about: "encoder.weights" }]);
  expect(external("imagenet")).toEqual([expect.objectContaining({ key: expect.stringMatching(/^imagenet-weights:mobilenet_v2_.*_no_top\.h5$/) })]);
  expect(external("none")).toEqual([]);
  expect(external("weights/enc.h5", ["tensors", "model"])).toEqual([]);
});
