/**
 * Ctrl-C during a fine-tune: the handler that aborts the signal is a macrotask (a
 * signal, here a timer), and a batch on the pure-JS backend never lets the event loop
 * turn by itself. Training must still stop within about one batch, not at the epoch's
 * end, keep the last checkpoint, and describe it for `status` (the stage type's
 * resumePoint).
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, expect, test } from "vitest";

import { finetuneStage } from "../../stages/train/finetune.js";
import { FINETUNE_OUTPUTS, type FinetuneParams } from "../../stages/train/finetune-params.js";
import { runFinetune } from "../../stages/train/run-finetune.js";
import { TempDirs, testContext, tinyParams, writeTensorFixture } from "./fixtures.js";

const temp = new TempDirs();
/** The hook as the engine calls it (the registry holds stage types with untyped params). */
const resumePoint = (scratchDir: string, params: FinetuneParams): Promise<string | null> | undefined =>
  finetuneStage.resumePoint?.(scratchDir, params as unknown as Record<string, unknown>);
let root: string;
let tensors: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await temp.make();
  // 8 training items in batches of 1: 8 batches per epoch.
  tensors = await writeTensorFixture(root, { size: 32, counts: { train: 8, val: 2 } });
});

afterAll(() => temp.cleanup());

test("an abort from a timer stops training within about one batch and keeps the last epoch's checkpoint", async () => {
  const dirs = { outDir: path.join(root, "out"), scratchDir: path.join(root, "scratch") };
  const params = tinyParams({ epochs: 3, batch_size: 1 });
  const controller = new AbortController();
  let batchesAfterAbortWasScheduled: number | null = null;
  const t = testContext(params, { tensors }, dirs, {
    signal: controller.signal,
    onProgress: (update) => {
      if (batchesAfterAbortWasScheduled !== null) batchesAfterAbortWasScheduled++;
      // Epoch 2, batch 2: schedule Ctrl-C as a signal handler would arrive, on a later turn of the event loop.
      if (update.current === 10) {
        batchesAfterAbortWasScheduled = 0;
        setTimeout(() => controller.abort(), 0);
      }
    },
  });
  await expect(runFinetune(t.ctx)).rejects.toThrow();

  expect(batchesAfterAbortWasScheduled).not.toBeNull();
  expect(batchesAfterAbortWasScheduled).toBeLessThanOrEqual(1); // not the 6 left in the epoch
  expect(existsSync(path.join(dirs.outDir, FINETUNE_OUTPUTS.history))).toBe(false);
  expect(await resumePoint(dirs.scratchDir, params)).toBe("epoch 1 of 3");
});

test("resumePoint reads the latest checkpoint: none, mid-training, or after training had finished", async () => {
  const scratch = path.join(root, "scratch-fixture");
  const params = tinyParams({ epochs: 4 });
  expect(await resumePoint(scratch, params)).toBeNull();
  const writeCheckpoint = async (completedEpochs: number, stoppedEarly: boolean): Promise<void> => {
    const name = `epoch-000${completedEpochs}`;
    await mkdir(path.join(scratch, name), { recursive: true });
    await writeFile(path.join(scratch, name, "state.json"), JSON.stringify({ version: 1, runKey: "k", state: { completedEpochs, stoppedEarly } }));
    await writeFile(path.join(scratch, "latest.json"), JSON.stringify({ checkpoint: name }));
  };
  await writeCheckpoint(3, false);
  expect(await resumePoint(scratch, params)).toBe("epoch 3 of 4");
  await writeCheckpoint(2, true);
  expect(await resumePoint(scratch, params)).toBe("epoch 2 of 4 (training had finished)");
  await writeCheckpoint(4, false);
  expect(await resumePoint(scratch, params)).toBe("epoch 4 of 4 (training had finished)");
});
