/**
 * Breakdown groups' figures (`evaluate.kind=webcam.pooled_f1`) in a cross-validation
 * table: `sweep show` averages them over folds, shows each group's pooled F1 by default,
 * and takes any group figure as --metric and --sort; `runs` accepts them too but keeps
 * its default columns.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runsCommand } from "../../cli/commands/runs.js";
import { sweepCommand } from "../../cli/commands/sweep.js";
import { pickGroupMetrics, pickHeadlineMetrics } from "../../cli/output/runs-table.js";
import type { RunSummary } from "../../cli/run-lookup.js";
import type { RunMetrics, RunRecord, SweepRecord } from "../../pipeline/formats.js";
import { captureIO } from "../capture-io.js";

let cwd: string;
const SWEEP_ID = "20261203T080000Z-eyes-dev";
const keys: SweepRecord["keys"] = [
  { key: "stages.threshold.params.tta", short: "tta", repeat: false },
  { key: "stages.load.params.split.fold", short: "fold", repeat: true },
];

/** Per run: tta, fold, overall pooled F1, webcam pooled F1, unityeyes pooled F1. */
const RUNS: readonly [string, number, number, number, number][] = [
  ["none", 0, 0.9, 0.7, 0.92],
  ["none", 1, 0.8, 0.5, 0.82],
  ["flip", 0, 0.91, 0.8, 0.93],
  ["flip", 1, 0.81, 0.6, 0.83],
];
const runId = (tta: string, fold: number): string => `20261203T08${fold}${tta === "flip" ? 1 : 0}00Z-eyes-dev`;

beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-group-metrics-"));
  const runsDir = path.join(cwd, "runs");
  for (const [tta, fold, pooled, webcam, unityeyes] of RUNS) {
    const id = runId(tta, fold);
    const dir = path.join(runsDir, id);
    await mkdir(dir, { recursive: true });
    const record: RunRecord = {
      version: 1,
      id,
      experiment: "eyes-dev",
      configFile: "configs/eyes-dev.yaml",
      argv: [],
      pid: 1,
      hostname: "test-host",
      status: "succeeded",
      startedAt: "2026-12-03T08:00:00.000Z",
      finishedAt: "2026-12-03T08:01:00.000Z",
      stages: [{ id: "evaluate", uses: "evaluate", status: "succeeded", reason: "no cached result", fingerprintKey: "fp", artifactDigest: null, startedAt: null, finishedAt: null, durationMs: 1, error: null }],
    };
    const evaluate = {
      f1: pooled,
      f1_std: 0.01,
      pooled_f1: pooled,
      images: 99,
      "kind=unityeyes.f1": unityeyes,
      "kind=unityeyes.f1_std": 0.01,
      "kind=unityeyes.pooled_f1": unityeyes,
      "kind=unityeyes.images": 89,
      "kind=webcam.f1": webcam,
      "kind=webcam.f1_std": 0.05,
      "kind=webcam.pooled_f1": webcam,
      "kind=webcam.images": 10,
    };
    await writeFile(path.join(dir, "run.json"), JSON.stringify(record));
    await writeFile(path.join(dir, "metrics.json"), JSON.stringify({ version: 1, stages: { evaluate } } satisfies RunMetrics));
  }
  const sweep: SweepRecord = {
    version: 1,
    id: SWEEP_ID,
    experiment: "eyes-dev",
    configFile: "configs/eyes-dev.yaml",
    argv: [],
    status: "succeeded",
    startedAt: "2026-12-03T08:00:00.000Z",
    finishedAt: "2026-12-03T08:05:00.000Z",
    keys,
    combinations: RUNS.map(([tta, fold]) => ({
      label: `tta=${tta},fold=${fold}`,
      values: { "stages.threshold.params.tta": tta, "stages.load.params.split.fold": fold },
      runId: runId(tta, fold),
      status: "succeeded",
    })),
  };
  await mkdir(path.join(runsDir, ".sweeps"), { recursive: true });
  await writeFile(path.join(runsDir, ".sweeps", `${SWEEP_ID}.json`), JSON.stringify(sweep));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("breakdown groups in sweep and runs tables", () => {
  it("shows each group's pooled F1 by default, mean ± std over folds", async () => {
    const io = captureIO(cwd);
    expect(await sweepCommand.run(["show", "--format", "csv"], io)).toBe(0);
    const [header, ...rows] = io.stdout().trimEnd().split("\n");
    expect(header).toBe(
      "stages.threshold.params.tta,runs,succeeded,failed,unfinished," +
        "evaluate.f1.mean,evaluate.f1.std,evaluate.f1.n,evaluate.pooled_f1.mean,evaluate.pooled_f1.std,evaluate.pooled_f1.n," +
        "evaluate.kind=unityeyes.pooled_f1.mean,evaluate.kind=unityeyes.pooled_f1.std,evaluate.kind=unityeyes.pooled_f1.n," +
        "evaluate.kind=webcam.pooled_f1.mean,evaluate.kind=webcam.pooled_f1.std,evaluate.kind=webcam.pooled_f1.n,best",
    );
    const cells = rows.map((row) => row.split(","));
    // flip first (higher evaluate.f1); webcam 0.8, 0.6 -> mean 0.7, sample std sqrt(0.02) = 0.141421
    expect(cells.map((c) => c[0])).toEqual(["flip", "none"]);
    expect(Number(cells[0]?.[14])).toBeCloseTo(0.7, 12);
    expect(Number(cells[0]?.[15])).toBeCloseTo(Math.SQRT2 / 10, 12);
    expect(cells[0]?.[16]).toBe("2");
    expect(Number(cells[1]?.[11])).toBeCloseTo(0.87, 12);
  });

  it("charts each group's pooled F1 on the sweep page", async () => {
    const io = captureIO(cwd);
    expect(await sweepCommand.run(["show", "--format", "html", "--out", "sweep.html"], io)).toBe(0);
    const page = await readFile(path.join(cwd, "sweep.html"), "utf8");
    expect(page).toContain('data-metric="evaluate.kind=webcam.pooled_f1"');
    expect(page).toContain('data-chart="sweep/evaluate.kind=webcam.pooled_f1/stages.threshold.params.tta"');
  });

  it("takes a group figure as --metric and --sort", async () => {
    const io = captureIO(cwd);
    expect(await sweepCommand.run(["show", SWEEP_ID, "--metric", "evaluate.kind=webcam.f1", "--sort", "evaluate.kind=webcam.f1:asc"], io)).toBe(0);
    expect(io.stdout()).toBe(
      [
        `sweep ${SWEEP_ID} (succeeded): 4 runs; metrics: mean ± sample std (n-1) over fold; sorted by evaluate.kind=webcam.f1 (lower is better), * best`,
        "   tta   runs  status  evaluate.kind=webcam.f1",
        "*  none   2/2  ok                 0.6 ± 0.1414",
        "   flip   2/2  ok                 0.7 ± 0.1414",
        "",
      ].join("\n"),
    );
  });

  it("keeps `runs`' default columns, and sorts runs by a group figure", async () => {
    const io = captureIO(cwd);
    expect(await runsCommand.run(["--sort", "evaluate.kind=webcam.pooled_f1", "--metric", "evaluate.kind=webcam.pooled_f1", "--format", "json"], io)).toBe(0);
    const listed = JSON.parse(io.stdout()) as { id: string; metrics: Record<string, number> }[];
    expect(listed.map((r) => r.metrics["evaluate.kind=webcam.pooled_f1"])).toEqual([0.8, 0.7, 0.6, 0.5]);

    const evaluate = { f1: 0.9, pooled_f1: 0.9, "kind=webcam.f1": 0.8, "kind=webcam.pooled_f1": 0.8, "kind=unityeyes.f1": 0.95, "kind=unityeyes.pooled_f1": 0.95 };
    const run = { record: { stages: [{ id: "evaluate" }] }, metrics: { version: 1, stages: { evaluate } } } as unknown as RunSummary;
    expect(pickHeadlineMetrics([run])).toEqual(["evaluate.f1", "evaluate.pooled_f1"]);
    expect(pickGroupMetrics([run])).toEqual(["evaluate.kind=webcam.pooled_f1", "evaluate.kind=unityeyes.pooled_f1"]);
    expect(pickGroupMetrics([run], "f1")).toEqual(["evaluate.kind=webcam.f1", "evaluate.kind=unityeyes.f1"]);
  });

  it("by default shows only attributes that split every image, of two values or more (not a close-up's iris, not a lone source)", () => {
    const group = (name: string, pooled: number, images: number) => ({ [`${name}.pooled_f1`]: pooled, [`${name}.images`]: images });
    const evaluate = {
      pooled_f1: 0.9,
      images: 100,
      ...group("kind=webcam", 0.8, 20),
      ...group("kind=unityeyes", 0.9, 60),
      ...group("kind=synthetic", 0.95, 20),
      ...group("source=folders", 0.88, 100),
      ...group("iris=blue", 0.9, 8),
      ...group("iris=brown", 0.97, 12),
    };
    const run = { record: { stages: [{ id: "evaluate" }] }, metrics: { version: 1, stages: { evaluate } } } as unknown as RunSummary;
    expect(pickGroupMetrics([run])).toEqual(["evaluate.kind=webcam.pooled_f1", "evaluate.kind=unityeyes.pooled_f1", "evaluate.kind=synthetic.pooled_f1"]);
    expect(pickGroupMetrics([run], "pooled_f1", 2)).toHaveLength(2);
  });
});
