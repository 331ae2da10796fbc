/** Sweep results: rows per setup, mean ± sample std over folds, checked against numbers worked out by hand. */
import { describe, expect, it } from "vitest";
import type { SweepRecord } from "../../pipeline/formats.js";
import { aggregateSweep, sortRows, type CombinationResult } from "../../pipeline/sweep/aggregate.js";
import { buildSweepTable, renderSweepTable } from "../../cli/output/sweep-table.js";

const keys: SweepRecord["keys"] = [
  { key: "stages.t.params.loss", short: "loss", repeat: false },
  { key: "stages.load.params.split.fold", short: "fold", repeat: true },
];

function combination(loss: string, fold: number, status: string, f1?: number, valLoss?: number): CombinationResult {
  const metrics = new Map<string, number>();
  if (f1 !== undefined) metrics.set("evaluate.f1", f1);
  if (valLoss !== undefined) metrics.set("t.val_loss", valLoss);
  return { label: `loss=${loss},fold=${fold}`, values: { "stages.t.params.loss": loss, "stages.load.params.split.fold": fold }, runId: status === "pending" ? null : `r-${loss}-${fold}`, status, metrics };
}

// dice: F1 0.9, 0.8, 0.7 -> mean 0.8, sample std sqrt((0.01 + 0 + 0.01) / 2) = 0.1
// dice_bce: F1 0.5, 0.6 (fold 2 failed) -> mean 0.55, std sqrt((0.0025 + 0.0025) / 1) = 0.070711
// bce: one run -> no std; one pending
const combinations = [
  combination("dice", 0, "succeeded", 0.9, 0.3),
  combination("dice", 1, "succeeded", 0.8, 0.2),
  combination("dice", 2, "succeeded", 0.7, 0.1),
  combination("dice_bce", 0, "succeeded", 0.5, 0.4),
  combination("dice_bce", 1, "succeeded", 0.6, 0.5),
  combination("dice_bce", 2, "failed", 0.99),
  combination("bce", 0, "succeeded", 0.85, 0.6),
  combination("bce", 1, "pending"),
];

describe("sweep aggregation", () => {
  it("groups folds into one row per setup with mean, sample std and n, leaving failed runs out of the means", () => {
    const rows = aggregateSweep(keys, combinations, ["evaluate.f1"]);
    expect(rows.map((r) => [r.values, r.succeeded, r.failed, r.unfinished])).toEqual([
      [{ "stages.t.params.loss": "dice" }, 3, 0, 0],
      [{ "stages.t.params.loss": "dice_bce" }, 2, 1, 0],
      [{ "stages.t.params.loss": "bce" }, 1, 0, 1],
    ]);
    const f1 = rows.map((r) => r.metrics["evaluate.f1"]);
    expect(f1[0]?.mean).toBeCloseTo(0.8, 12);
    expect(f1[0]?.std).toBeCloseTo(0.1, 12);
    expect(f1[0]?.n).toBe(3);
    expect(f1[1]?.mean).toBeCloseTo(0.55, 12);
    expect(f1[1]?.std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(f1[2]).toEqual({ mean: 0.85, std: null, n: 1 });
  });

  it("sorts best first: F1 high, losses low", () => {
    const rows = aggregateSweep(keys, combinations, ["evaluate.f1", "t.val_loss"]);
    expect(sortRows(rows, "evaluate.f1").map((r) => r.values["stages.t.params.loss"])).toEqual(["bce", "dice", "dice_bce"]);
    expect(sortRows(rows, "t.val_loss").map((r) => r.values["stages.t.params.loss"])).toEqual(["dice", "dice_bce", "bce"]);
  });

  it("prints one table with the best row marked and failed or pending runs shown", () => {
    const sweep: SweepRecord = {
      version: 1,
      id: "20261203T030000Z-eyes",
      experiment: "eyes",
      configFile: "eyes.yaml",
      argv: [],
      status: "failed",
      startedAt: "2026-12-03T03:00:00.000Z",
      finishedAt: null,
      keys,
      combinations: combinations.map((c) => ({ label: c.label, values: c.values, runId: c.runId, status: "succeeded" })),
    };
    const table = buildSweepTable({ sweep, combinations, runs: [] }, ["evaluate.f1"], { metric: "evaluate.f1" });
    expect(renderSweepTable(table, "table")).toBe(
      [
        "sweep 20261203T030000Z-eyes (failed): 8 runs; metrics: mean ± sample std (n-1) over fold; sorted by evaluate.f1 (higher is better), * best",
        "   loss      runs  status        evaluate.f1",
        "*  bce        1/2  1 pending            0.85",
        "   dice       3/3  ok              0.8 ± 0.1",
        "   dice_bce   2/3  1 failed   0.55 ± 0.07071",
        "",
      ].join("\n"),
    );
    expect(renderSweepTable(table, "csv").split("\n").slice(0, 2)).toEqual([
      "stages.t.params.loss,runs,succeeded,failed,unfinished,evaluate.f1.mean,evaluate.f1.std,evaluate.f1.n,best",
      "bce,2,1,0,1,0.85,,1,true",
    ]);
    const json = JSON.parse(renderSweepTable(table, "json")) as { std: string; rows: { best: boolean; metrics: Record<string, { n: number }> }[] };
    expect(json.std).toBe("sample (n-1)");
    expect(json.rows.map((r) => [r.best, r.metrics["evaluate.f1"]?.n])).toEqual([
      [true, 1],
      [false, 3],
      [false, 2],
    ]);
  });
});
