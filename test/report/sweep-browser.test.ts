/**
 * The sweep page in a real browser: no console errors, no network, the results table
 * with the best row marked, F1 against the learning rate with the fold spread as error
 * bars, and every run's training curves overlaid. Skipped where there is no Chromium.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { buildSweepTable } from "../../cli/output/sweep-table.js";
import { writeSweepPage } from "../../cli/report/write-report.js";
import { readSweepResults } from "../../cli/sweep-results.js";
import type { SweepRecord } from "../../pipeline/formats.js";
import { makeRegistry } from "../../pipeline/registry.js";
import { builtinStageTypes } from "../../stages/registry.js";
import { RUNTIME_CHOICES } from "../../stages/runtime/backend-names.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { NO_CHROMIUM, drawnCharts, findChromium, launchChromium, openReport, screenshot } from "./browser.js";
import { HISTORY_A, HISTORY_B, writeFakeRun } from "./fake-run.js";

const executable = findChromium();
const LR = "stages.finetune2.params.optimizer.lr";
const FOLD = "stages.load.params.split.fold";

// evaluate.f1 is the mean of the image F1s: lr 1e-4 -> folds 0.7, 0.8 (0.75 ± 0.070711);
// lr 3e-4 -> folds 0.5, 0.7 (0.6 ± 0.141421).
const RUNS = [
  { lr: 0.0001, fold: 0, imageF1: [0.8, 0.6], history: HISTORY_A },
  { lr: 0.0001, fold: 1, imageF1: [0.9, 0.7], history: HISTORY_A },
  { lr: 0.0003, fold: 0, imageF1: [0.5, 0.5], history: HISTORY_B },
  { lr: 0.0003, fold: 1, imageF1: [0.7, 0.7], history: HISTORY_B },
];

describe.skipIf(skipUnlessAvailable("Chromium", executable === null ? NO_CHROMIUM : null))(`the sweep page in Chromium (${executable ?? `skipped: ${NO_CHROMIUM}`})`, () => {
  let browser: Browser;
  let dir: string;
  let out: string;
  beforeAll(async () => {
    browser = await launchChromium(executable ?? "");
    dir = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-sweep-browser-"));
    const runsDir = path.join(dir, "runs");
    const labels = RUNS.map((r) => `lr=${r.lr === 0.0001 ? "1e-4" : "3e-4"},fold=${r.fold}`);
    const ids = labels.map((label) => `20261203T100000Z-eyes[${label}]`);
    for (const [i, run] of RUNS.entries()) {
      await writeFakeRun(runsDir, { id: ids[i] ?? "", startedAt: "2026-12-03T10:00:00.000Z", lr: run.lr, history: run.history, threshold: 0.5, imageF1: run.imageF1 });
    }
    const sweep: SweepRecord = {
      version: 1,
      id: "20261203T100000Z-eyes",
      experiment: "eyes",
      configFile: "eyes.yaml",
      argv: [],
      status: "succeeded",
      startedAt: "2026-12-03T10:00:00.000Z",
      finishedAt: "2026-12-03T10:10:00.000Z",
      keys: [
        { key: LR, short: "lr", repeat: false },
        { key: FOLD, short: "fold", repeat: true },
      ],
      combinations: RUNS.map((run, i) => ({ label: labels[i] ?? "", values: { [LR]: run.lr, [FOLD]: run.fold }, runId: ids[i] ?? null, status: "succeeded" })),
    };
    await mkdir(path.join(runsDir, ".sweeps"), { recursive: true });
    await writeFile(path.join(runsDir, ".sweeps", `${sweep.id}.json`), JSON.stringify(sweep));
    const results = await readSweepResults(runsDir, sweep);
    const table = buildSweepTable(results, ["evaluate.f1"], { metric: "evaluate.f1" });
    out = path.join(dir, "sweep.html");
    await writeSweepPage(out, { table, results, registry: makeRegistry(builtinStageTypes, RUNTIME_CHOICES) });
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("draws the table, each metric against the swept param with fold error bars, and every run's curves", async () => {
    const { page, errors, network } = await openReport(browser, out);
    await screenshot(page, "sweep");
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    const rows = await page.locator("#results tbody tr").allTextContents();
    expect(rows).toEqual(["best0.00012/2ok0.75 ± 0.07071", "0.00032/2ok0.6 ± 0.1414"]);

    const charts = await drawnCharts(page);
    const byLr = charts.get(`sweep/evaluate.f1/${LR}`);
    const mean = byLr?.datasets.find((d) => d.label === "evaluate.f1");
    expect(mean?.points.map(([x, y]) => [x, Number(y?.toFixed(6))])).toEqual([
      [0.0001, 0.75],
      [0.0003, 0.6],
    ]);
    const bars = byLr?.datasets.filter((d) => d.label === "evaluate.f1 ± std").map((d) => d.points.map(([x, y]) => [x, Number(y?.toFixed(6))]));
    expect(bars).toEqual([
      [
        [0.0001, 0.679289],
        [0.0001, 0.820711],
      ],
      [
        [0.0003, 0.458579],
        [0.0003, 0.741421],
      ],
    ]);
    const perFold = charts.get(`sweep/evaluate.f1/${FOLD}`);
    expect(perFold?.datasets.map((d) => [d.label, d.points.map(([x, y]) => [x, Number(y?.toFixed(6))])])).toEqual([
      ["lr=0.0001", [[0, 0.7], [1, 0.8]]],
      ["lr=0.0003", [[0, 0.5], [1, 0.7]]],
    ]);
    // Every combination's finetune2 loss curve, drawn over each other.
    const loss = charts.get("finetune2/loss")?.datasets.filter((d) => d.label.endsWith(": loss (train)")).map((d) => d.label);
    expect(loss).toEqual(["lr=1e-4,fold=0: loss (train)", "lr=1e-4,fold=1: loss (train)", "lr=3e-4,fold=0: loss (train)", "lr=3e-4,fold=1: loss (train)"]);
    expect(charts.get("finetune2/loss")?.datasets[0]?.points).toEqual(HISTORY_A.map((h) => [h.epoch, h.loss]));
    await page.close();
  });
});
