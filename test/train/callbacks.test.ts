import { describe, expect, test } from "vitest";

import {
  INITIAL_EARLY_STOPPING,
  INITIAL_REDUCE_LR,
  earlyStoppingStep,
  isNewBest,
  reduceLrStep,
  type ReduceLrState,
  type EarlyStoppingState,
} from "../../stages/train/callbacks.js";

function lrSchedule(losses: number[], params = { factor: 0.1, patience: 2, min_lr: 1e-6, min_delta: 1e-4 }, lr = 1e-3): number[] {
  let state: ReduceLrState = INITIAL_REDUCE_LR;
  const used: number[] = [];
  for (const loss of losses) {
    used.push(lr);
    const next = reduceLrStep(params, state, loss, lr);
    state = next.state;
    lr = next.lr;
  }
  return used;
}

function stopEpoch(losses: number[], patience: number, minDelta = 0): number | null {
  let state: EarlyStoppingState = INITIAL_EARLY_STOPPING;
  for (const [epoch, loss] of losses.entries()) {
    const next = earlyStoppingStep({ patience, min_delta: minDelta }, state, loss, epoch);
    state = next.state;
    if (next.stop) return epoch + 1;
  }
  return null;
}

describe("reduce LR on plateau", () => {
  test("reduces after `patience` epochs without improvement, then waits again", () => {
    // epochs:            1     2     3     4     5     6     7
    const used = lrSchedule([1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.8]);
    expect(used).toEqual([1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-5]);
  });

  test("an improvement smaller than min_delta does not count", () => {
    // Epochs 2 and 3 improve by less than 1e-4: after epoch 3 the lr drops.
    const used = lrSchedule([1.0, 0.99995, 0.99991, 0.5]);
    expect(used).toEqual([1e-3, 1e-3, 1e-3, 1e-4]);
  });

  test("never goes below min_lr", () => {
    const used = lrSchedule([1, 1, 1, 1, 1, 1, 1, 1, 1], { factor: 0.1, patience: 1, min_lr: 1e-5, min_delta: 0 });
    expect(used.map((lr) => Number(lr.toPrecision(6)))).toEqual([1e-3, 1e-3, 1e-4, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5]);
  });
});

describe("early stopping", () => {
  test("stops after `patience` epochs without improvement", () => {
    expect(stopEpoch([1.0, 0.9, 0.95, 0.92, 0.91], 3)).toBe(5);
    expect(stopEpoch([1.0, 0.9, 0.95, 0.85, 0.91, 0.9], 3)).toBeNull();
  });

  test("never stops after the first epoch (as Keras)", () => {
    expect(stopEpoch([Number.NaN], 1)).toBeNull();
    expect(stopEpoch([1, 1], 1)).toBe(2);
  });

  test("min_delta raises the bar", () => {
    expect(stopEpoch([1.0, 0.95, 0.92], 2, 0.1)).toBe(3);
  });
});

test("best checkpoint: strictly lower and finite", () => {
  expect(isNewBest(null, 0.5)).toBe(true);
  expect(isNewBest(0.5, 0.5)).toBe(false);
  expect(isNewBest(0.5, 0.4)).toBe(true);
  expect(isNewBest(null, Number.NaN)).toBe(false);
});
