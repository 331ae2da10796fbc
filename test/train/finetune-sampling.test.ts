/**
 * finetune's `sampling` through the stage's entry point, on a tiny MU-Net (32x32) and 6
 * training images (4 of kind "render", 2 of kind "photo"): the batches it trains on are
 * the balanced draws, a run without `sampling` keeps today's order, and a bad
 * `sampling` fails before the backend or the model is touched.
 */
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";

import { FINETUNE_OUTPUTS } from "../../stages/train/finetune-params.js";
import { finetuneStage } from "../../stages/train/finetune.js";
import { runFinetune } from "../../stages/train/run-finetune.js";
import { balancePlan, balancedEpochOrder } from "../../stages/train/balanced-order.js";
import { SplitData, epochOrder } from "../../stages/train/train-data.js";
import { openTensorShards } from "../../stages/data/tensor-shards.js";
import { TempDirs, testContext, tinyParams, writeTensorFixture } from "./fixtures.js";

const temp = new TempDirs();
let root: string;
let tensors: string;
let run = 0;

beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await temp.make();
  tensors = await writeTensorFixture(root, {
    size: 32,
    counts: { train: 6, val: 2 },
    attributes: (split, index) => ({ kind: split === "train" && index >= 4 ? "photo" : "render" }),
  });
});

afterAll(() => temp.cleanup());
afterEach(() => vi.restoreAllMocks());

function freshDirs(): { outDir: string; scratchDir: string } {
  run++;
  return { outDir: path.join(root, `out-${run}`), scratchDir: path.join(root, `scratch-${run}`) };
}

/** Runs one epoch of 2 steps (batch 4 of 6 items) and returns the training positions each step read. */
async function trainedBatches(overrides: Record<string, unknown>) {
  const gather = vi.spyOn(SplitData.prototype, "gather");
  const dirs = freshDirs();
  const t = testContext(tinyParams({ epochs: 1, ...overrides }), { tensors }, dirs);
  const outcome = await runFinetune(t.ctx);
  const batches = gather.mock.calls.filter((_, i) => (gather.mock.contexts[i] as SplitData).split === "train").map(([positions]) => [...positions]);
  return { batches, logs: t.logs, outcome, outDir: dirs.outDir };
}

describe("finetune sampling", () => {
  test("without sampling, each training item once per epoch in today's seeded order", async () => {
    const { batches } = await trainedBatches({});
    expect(batches).toEqual([epochOrder(6, 42, 1, true).slice(0, 4), epochOrder(6, 42, 1, true).slice(4)]);
  });

  test("balanced by kind: the steps train on the balanced draws, logged once, recorded in metrics and the report", async () => {
    const { batches, logs, outcome, outDir } = await trainedBatches({ sampling: { balance_by: "kind", weights: { photo: 3, render: 1 } } });
    const items = (await openTensorShards(tensors)).manifest.items.filter((item) => item.split === "train");
    const expected = balancedEpochOrder(balancePlan(items, { balance_by: "kind", weights: { photo: 3, render: 1 } }), 6, 42, 1);
    expect(batches).toEqual([expected.slice(0, 4), expected.slice(4)]);
    expect(batches.flat()).not.toEqual(epochOrder(6, 42, 1, true));

    expect(logs.filter((line) => line.startsWith("sampling:"))).toEqual([
      'sampling: balanced by "kind", 6 draws per epoch: photo 2 items, share 0.75 (each item about 2.25x per epoch); render 4 items, share 0.25 (each item about 0.38x per epoch)',
    ]);
    expect(outcome.metrics).toMatchObject({ balance_by: "kind", "balance_share.photo": 0.75, "balance_items.photo": 2, "balance_share.render": 0.25, "balance_items.render": 4 });

    const sections = await finetuneStage.report?.({
      stageId: "finetune",
      outputs: { [FINETUNE_OUTPUTS.history]: path.join(outDir, FINETUNE_OUTPUTS.history) },
      inputs: {},
      metrics: outcome.metrics ?? {},
    });
    const table = sections?.flatMap((section) => section.blocks).find((block) => block.kind === "table");
    expect(table).toEqual({
      kind: "table",
      title: 'Training batches balanced by "kind"',
      columns: ["kind", "training items", "share of the draws"],
      rows: [
        ["photo", 2, 0.75],
        ["render", 4, 0.25],
      ],
    });
  });

  test("draws fixes the epoch's size: 10 draws of batch 4 are 3 steps over the balanced order", async () => {
    const sampling = { balance_by: "kind", draws: 10 };
    const { batches, logs, outcome } = await trainedBatches({ sampling });
    const items = (await openTensorShards(tensors)).manifest.items.filter((item) => item.split === "train");
    const expected = balancedEpochOrder(balancePlan(items, sampling), 10, 42, 1);
    expect(batches).toEqual([expected.slice(0, 4), expected.slice(4, 8), expected.slice(8)]);
    expect(logs.some((line) => line.startsWith('sampling: balanced by "kind", 10 draws per epoch'))).toBe(true);
    expect(outcome.metrics?.["epochs_run"]).toBe(1);
  });

  test("with recompute_bn_stats, the statistics come from balanced draws (epoch 0's), not from every item's order", async () => {
    const sampling = { balance_by: "kind", weights: { photo: 3, render: 1 } };
    const { batches } = await trainedBatches({ sampling, recompute_bn_stats: 1 });
    const items = (await openTensorShards(tensors)).manifest.items.filter((item) => item.split === "train");
    const plan = balancePlan(items, sampling);
    const trained = balancedEpochOrder(plan, 6, 42, 1);
    expect(batches).toEqual([trained.slice(0, 4), trained.slice(4), balancedEpochOrder(plan, 6, 42, 0).slice(0, 4)]);
  });

  test("an attribute some items lack fails before the backend and the model, naming it", async () => {
    const dirs = freshDirs();
    const t = testContext(tinyParams({ epochs: 1, sampling: { balance_by: "view" } }), { tensors }, dirs);
    await expect(runFinetune(t.ctx)).rejects.toThrow('finetune: sampling.balance_by: 6 of 6 training items have no attribute "view" (e.g. "train-1"), so they belong to no group; attributes every training item has: kind');
    expect(t.logs.some((line) => line.startsWith("backend:"))).toBe(false);
  });

  test("the schema takes sampling with or without weights and refuses a weight of 0", () => {
    expect(tinyParams({ sampling: { balance_by: "kind" } }).sampling).toEqual({ balance_by: "kind" });
    expect(() => tinyParams({ sampling: { balance_by: "kind", weights: { photo: 0 } } })).toThrow("must be > 0");
    expect(tinyParams({}).sampling).toBeUndefined();
  });
});
