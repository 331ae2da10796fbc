/**
 * Report pages in a real browser: they render without console errors, ask the network
 * for nothing, and their charts hold the run's numbers. Screenshots are kept in
 * test-artifacts/screenshots/. Skipped (saying how to get it) where there is no Chromium.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";

import { writeComparisonPage, writeRunReport } from "../../cli/report/write-report.js";
import { compareRuns, readRunConfig } from "../../cli/compare-runs.js";
import { readRun } from "../../cli/run-lookup.js";
import { builtinRegistry } from "../../stages/registry.js";
import { parseCsv } from "../../stages/report/csv-table.js";
import { nativeProblem, nativeStatus } from "../../stages/runtime/native-package.js";
import { EngineRig } from "../pipeline/engine-rig.js";
import { NO_CHROMIUM, decodedImages, drawnCharts, findChromium, launchChromium, openReport, screenshot, type DrawnChart } from "./browser.js";
import { HISTORY_A, HISTORY_B, IMAGE_F1, thresholdCurve, writeFakeRun } from "./fake-run.js";

const executable = findChromium();
const nativeTensorflow = nativeProblem(nativeStatus("tensorflow"));
const registry = builtinRegistry();

const A = "20261120T100000Z-eyes";
const B = "20261121T100000Z-eyes";

let browser: Browser;

function dataset(charts: Map<string, DrawnChart>, key: string, label: string): DrawnChart["datasets"][number] {
  const found = charts.get(key)?.datasets.find((d) => d.label === label);
  if (!found) throw new Error(`no dataset "${label}" in chart ${key}: ${JSON.stringify(charts.get(key)?.datasets.map((d) => d.label))}`);
  return found;
}

describe.skipIf(skipUnlessAvailable("Chromium", executable === null ? NO_CHROMIUM : null))(`report pages in Chromium (${executable ?? `skipped: ${NO_CHROMIUM}`})`, () => {
  let dir: string;
  beforeAll(async () => {
    browser = await launchChromium(executable ?? "");
    dir = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-report-browser-"));
    await writeFakeRun(path.join(dir, "runs"), { id: A, startedAt: "2026-11-20T10:00:00.000Z", lr: 0.0001, history: HISTORY_A, threshold: 0.4, imageF1: IMAGE_F1 });
    await writeFakeRun(path.join(dir, "runs"), { id: B, startedAt: "2026-11-21T10:00:00.000Z", lr: 0.0003, history: HISTORY_B, threshold: 0.6, imageF1: IMAGE_F1 });
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("draws a run's report with its numbers, images decoded, no errors and no network", async () => {
    const { page, errors, network } = await openReport(browser, await writeRunReport(path.join(dir, "runs", B), registry));
    await screenshot(page, "run-report");
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    const charts = await drawnCharts(page);
    expect(dataset(charts, "finetune1/loss", "loss (train)").points).toEqual(HISTORY_B.map((h) => [h.epoch, h.loss]));
    expect(dataset(charts, "finetune2/loss", "val loss").points).toEqual(HISTORY_B.map((h) => [h.epoch, h.val_loss]));
    expect(dataset(charts, "finetune2/lr", "learning rate").points).toEqual(HISTORY_B.map((h) => [h.epoch, h.lr]));
    expect(dataset(charts, "threshold/f1", "F1").points).toEqual(thresholdCurve(0.6).map((p) => [p.threshold, p.f1]));
    expect(dataset(charts, "threshold/f1", "chosen threshold 0.6 (F1 0.9)")).toMatchObject({ type: "scatter", points: [[0.6, 0.9]] });
    const images = await decodedImages(page);
    expect(images).toHaveLength(8);
    expect(images.every((image) => image.naturalWidth === 240)).toBe(true);
    await page.close();
  });

  it("draws a comparison with both runs' curves over each other", async () => {
    const runs = await Promise.all([A, B].map((id) => readRun(path.join(dir, "runs", id))));
    const configs = await Promise.all(runs.map((run) => readRunConfig(run.dir)));
    const out = path.join(dir, "compare.html");
    await writeComparisonPage(out, { comparison: compareRuns(runs, configs), runs, configs, registry });
    const { page, errors, network } = await openReport(browser, out);
    await screenshot(page, "compare");
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    const charts = await drawnCharts(page);
    expect(dataset(charts, "finetune2/loss", "20261120T100000Z: loss (train)").points).toEqual(HISTORY_A.map((h) => [h.epoch, h.loss]));
    expect(dataset(charts, "finetune2/loss", "20261121T100000Z: loss (train)").points).toEqual(HISTORY_B.map((h) => [h.epoch, h.loss]));
    expect(await page.locator("#params").textContent()).toContain("stages.finetune2.params.optimizer.lr0.00010.0003");
    await page.close();
  });
});

/** A tiny real experiment: every stage type, trained for seconds on the native backend. */
const TINY = `experiment: tiny
settings: { seed: 7 }
stages:
  load:
    uses: load
    params:
      source: { kind: synthetic, count: 24 }
      split: { train: 0.5, val: 0.25, test: 0.25 }
  resize:
    uses: resize
    inputs: { dataset: load.dataset }
    params: { size: 64 }
  finetune1:
    uses: finetune
    inputs: { tensors: resize.tensors }
    params: { model: { alpha: 0.35 }, encoder: { weights: none }, epochs: 2, batch_size: 4, loss: dice_bce, optimizer: { lr: 0.001 } }
  finetune2:
    uses: finetune
    inputs: { tensors: resize.tensors, model: finetune1.best }
    params: { freeze: none, epochs: 2, batch_size: 4 }
  threshold:
    uses: threshold
    inputs: { model: finetune2.best, tensors: resize.tensors }
  predict:
    uses: predict
    inputs: { model: threshold.model, tensors: resize.tensors }
    params: { overlays: true }
  evaluate:
    uses: evaluate
    inputs: { submission: predict.submission }
`;

const skipReal = executable === null ? NO_CHROMIUM : nativeTensorflow !== null ? `tensorflow backend: ${nativeTensorflow}` : null;

describe.skipIf(skipUnlessAvailable("Chromium and the native TensorFlow backend", skipReal))(`the report of a tiny real run (${skipReal === null ? "native backend" : `skipped: ${skipReal}`})`, { timeout: 240_000 }, () => {
  let rig: EngineRig;
  beforeAll(async () => {
    browser = await launchChromium(executable ?? "");
    rig = await EngineRig.create();
    await rig.write("tiny.yaml", TINY);
  });
  afterAll(async () => {
    await browser?.close();
    await rig?.cleanup();
  });

  const column = (csv: string, name: string): number[] => {
    const [header = [], ...rows] = parseCsv(csv);
    return rows.map((row) => Number(row[header.indexOf(name)]));
  };
  const artifact = (file: string): Promise<string> => readFile(path.join(rig.dir, "runs/latest/artifacts", file), "utf8");

  it("holds the run's own numbers: loss per epoch, the chosen threshold, the F1 curve, the overlays", async () => {
    const run = await rig.runChild("run", "tiny.yaml");
    expect(run.code, run.out).toBe(0);
    const { page, errors, network } = await openReport(browser, path.join(rig.dir, "runs/latest/report.html"));
    await screenshot(page, "tiny-run-report");
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    const charts = await drawnCharts(page);
    const history = await artifact("finetune1/history.csv");
    const epochs = column(history, "epoch");
    expect(dataset(charts, "finetune1/loss", "loss (train)").points).toEqual(epochs.map((e, i) => [e, column(history, "loss")[i]]));
    const chosen = JSON.parse(await artifact("threshold/threshold.json")) as { threshold: number; f1: number };
    const marker = charts.get("threshold/f1")?.datasets.find((d) => d.type === "scatter");
    expect(marker?.points).toEqual([[chosen.threshold, chosen.f1]]);
    const curve = await artifact("threshold/curve.csv");
    expect(dataset(charts, "threshold/f1", "F1").points).toEqual(column(curve, "threshold").map((t, i) => [t, column(curve, "f1")[i]]));
    const images = await decodedImages(page);
    expect(images).toHaveLength(6); // 6 test images: the best 3 and the worst 3
    expect(images.every((image) => image.naturalWidth > 0)).toBe(true);
    await page.close();
  });

  it("compares it with a rerun at another learning rate", async () => {
    const rerun = await rig.runChild("run", "tiny.yaml", "--set", "stages.finetune2.params.optimizer.lr=0.001");
    expect(rerun.code, rerun.out).toBe(0);
    const compare = await rig.runChild("compare", "latest~1", "latest", "--format", "html", "--out", "compare.html");
    expect(compare.code, compare.out).toBe(0);
    const { page, errors, network } = await openReport(browser, path.join(rig.dir, "compare.html"));
    await screenshot(page, "tiny-run-compare");
    expect(errors).toEqual([]);
    expect(network).toEqual([]);
    const labels = (await drawnCharts(page)).get("finetune2/loss")?.datasets.map((d) => d.label) ?? [];
    expect(labels.filter((label) => label.endsWith(": loss (train)"))).toHaveLength(2);
    expect(await page.locator("#params").textContent()).toContain("stages.finetune2.params.optimizer.lr0.00010.001");
    await page.close();
  });
});
