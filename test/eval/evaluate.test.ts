import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

import { f1Of, sumConfusion } from "../../stages/eval/confusion.js";
import type { EvaluateParams } from "../../stages/eval/evaluate-params.js";
import { MAX_METRIC_GROUPS, evaluateStage, headlineMetrics } from "../../stages/eval/evaluate.js";
import { foldOrder, meanAndStd, splitEvenly } from "../../stages/eval/folds.js";
import type { EvaluationReport } from "../../stages/eval/report.js";
import { TempDirs, context, runStage } from "../stages/resize-fixtures.js";
import { SIX, SIX_COUNTS, writeSubmission } from "./submission-fixtures.js";

const temp = new TempDirs();
afterEach(() => temp.cleanup());

const native: EvaluateParams = { protocol: "ssbc2020", folds: 3, size: null, breakdown_by: null };

async function evaluate(params: EvaluateParams, seed = 7) {
  const submission = await temp.make("mu-pipe-eval-");
  await writeSubmission(submission, SIX);
  const out = await temp.make("mu-pipe-eval-out-");
  const run = context(params, { submission }, out);
  const outcome = await runStage(evaluateStage, { ...run, ctx: { ...run.ctx, seed } });
  const report = JSON.parse(await readFile(path.join(out, "report.json"), "utf8")) as EvaluationReport;
  return {
    outcome,
    report,
    perImage: await readFile(path.join(out, "per-image.csv"), "utf8"),
    breakdown: await readFile(path.join(out, "breakdown.csv"), "utf8"),
  };
}

describe("evaluate stage on a six-image submission", () => {
  it("writes per-image counts worked out by hand, with attributes and folds", async () => {
    const { perImage } = await evaluate(native);
    const folds = splitEvenly(foldOrder(["eye1", "eye2", "eye3", "eye4", "eye5", "eye6"], 7), 3);
    const fold = (base: string): number => folds.findIndex((f) => f.includes(base)) + 1;
    expect(perImage).toBe(
      [
        "name,split,subject,light,phone,fold,tp,fp,fn,tn,precision,recall,f1,iou",
        `eye1.png,test,s-eye1,day,a,${fold("eye1")},12,0,0,36,1,1,1,1`,
        // P 18/24, R 1, F1 36/42, IoU (18/24 + 24/30)/2
        `eye2.png,test,s-eye2,day,b,${fold("eye2")},18,6,0,24,0.75,1,0.857143,0.775`,
        // P 1, R 18/24, F1 36/42, IoU (18/24 + 24/30)/2
        `eye3.png,test,s-eye3,day,a,${fold("eye3")},18,0,6,24,1,0.75,0.857143,0.775`,
        `eye4.png,test,s-eye4,night,b,${fold("eye4")},12,0,0,36,1,1,1,1`,
        `eye5.png,test,s-eye5,night,a,${fold("eye5")},18,0,0,30,1,1,1,1`,
        // P 24/30, R 1, F1 48/54, IoU (24/30 + 18/24)/2
        `eye6.png,test,s-eye6,night,b,${fold("eye6")},24,6,0,18,0.8,1,0.888889,0.775`,
        "",
      ].join("\n"),
    );
  });

  it("reports fold means and stds, pooled and per-image figures, and headline metrics", async () => {
    const { report, outcome } = await evaluate(native);
    const folds = splitEvenly(foldOrder(Object.keys(SIX_COUNTS), 7), 3);
    const foldF1 = folds.map((names) => f1Of(sumConfusion(names.map((n) => SIX_COUNTS[n]!))));
    const expected = meanAndStd(foldF1);
    expect(report.overall.summary?.f1?.mean).toBeCloseTo(expected.mean, 12);
    expect(report.overall.summary?.f1?.std).toBeCloseTo(expected.std, 12);
    // everything pooled: TP 102, FP 12, FN 6 -> F1 204/222
    expect(report.overall.pooled.binarised).toMatchObject({ tp: 102, fp: 12, fn: 6, tn: 168 });
    expect(report.overall.pooled.binarised?.f1).toBe(204 / 222);
    // per-image F1: 1, 6/7, 6/7, 1, 1, 8/9
    expect(report.overall.perImageMean?.f1).toBeCloseTo((4 + 12 / 7 + 8 / 9 - 1) / 6, 12);
    // probabilities pooled: the cut at 190/255 (columns 0-2) gives TP 96, FP 12, FN 12 -> F1 8/9, the best
    expect(report.overall.pooled.probabilistic).toMatchObject({ threshold: 190 / 255, precision: 96 / 108, recall: 96 / 108 });
    expect(report.overall.pooled.probabilistic?.f1).toBeCloseTo(8 / 9, 12);
    expect(report.overall.pooledCurve?.length).toBeGreaterThan(0);
    expect(report).toMatchObject({ version: 1, protocol: "ssbc2020", images: 6, folds: 3, seed: 7, size: null, std: "population" });
    expect(report.sources).toEqual({ predictions: true, binarised: true, manifest: true });
    expect(report.submissionThreshold).toBe(0.5);
    expect(report.warnings).toEqual([]);
    expect(outcome.metrics).toMatchObject({ images: 6, pooled_f1: Number((204 / 222).toFixed(6)), f1: Number(expected.mean.toFixed(6)) });
    const overall = ["f1", "f1_std", "precision", "precision_std", "recall", "recall_std", "iou", "iou_std", "prob_f1", "pr_auc", "pooled_f1", "images"];
    const groups = ["light=day", "light=night", "phone=a", "phone=b"].flatMap((group) => ["f1", "f1_std", "pooled_f1", "images"].map((figure) => `${group}.${figure}`));
    expect(Object.keys(outcome.metrics ?? {})).toEqual([...overall, ...groups]);
  });

  it("gives each breakdown group its headline figures, keyed attribute=value.figure", async () => {
    const kinds = SIX.map((image, i) => ({ ...image, attributes: { kind: i < 2 ? "webcam" : "unityeyes" } }));
    const submission = await temp.make("mu-pipe-eval-");
    await writeSubmission(submission, kinds);
    const run = context({ ...native, folds: 2 }, { submission }, await temp.make("mu-pipe-eval-out-"));
    const { metrics } = await runStage(evaluateStage, { ...run, ctx: { ...run.ctx, seed: 7 } });
    // webcam: eye1 + eye2, one per fold, fold F1s 1 and 36/42 -> mean 13/14, population std 1/14;
    // pooled TP 30 FP 6 FN 0 -> F1 60/66.
    expect(metrics).toMatchObject({
      "kind=webcam.images": 2,
      "kind=webcam.f1": Number((13 / 14).toFixed(6)),
      "kind=webcam.f1_std": Number((1 / 14).toFixed(6)),
      "kind=webcam.pooled_f1": Number((60 / 66).toFixed(6)),
      // unityeyes: eye3-6, pooled TP 72 FP 6 FN 6 -> F1 144/156.
      "kind=unityeyes.images": 4,
      "kind=unityeyes.pooled_f1": Number((144 / 156).toFixed(6)),
    });
    expect(metrics?.["kind=unityeyes.f1"]).toBeGreaterThan(0.85);
    // A group smaller than the folds has no fold figures, but its pooled F1.
    const three = await temp.make("mu-pipe-eval-");
    await writeSubmission(three, kinds.slice(1, 4));
    const small = context({ ...native, folds: 2 }, { submission: three }, await temp.make("mu-pipe-eval-out-"));
    const { metrics: smallMetrics } = await runStage(evaluateStage, small);
    expect(smallMetrics).toMatchObject({ "kind=webcam.images": 1, "kind=webcam.f1": null, "kind=webcam.f1_std": null, "kind=webcam.pooled_f1": Number((36 / 42).toFixed(6)) });
  });

  it("gives no group figures to an attribute of more than MAX_METRIC_GROUPS values (a value per image), which breakdown.csv still has", async () => {
    const { report } = await evaluate(native);
    const [light] = report.breakdowns;
    const group = light!.groups[0]!;
    const perImage = { attribute: "seed", groups: Array.from({ length: MAX_METRIC_GROUPS + 1 }, (_, i) => ({ ...group, value: String(i) })) };
    const few = { attribute: "seed", groups: perImage.groups.slice(0, MAX_METRIC_GROUPS) };
    expect(Object.keys(headlineMetrics({ ...report, breakdowns: [light!, perImage] })).filter((key) => key.startsWith("seed="))).toEqual([]);
    expect(Object.keys(headlineMetrics({ ...report, breakdowns: [light!, few] })).filter((key) => key.startsWith("seed="))).toHaveLength(4 * MAX_METRIC_GROUPS);
    expect(Object.keys(headlineMetrics({ ...report, breakdowns: [light!, perImage] })).some((key) => key.startsWith("light="))).toBe(true);
  });

  it("breaks the figures down by each attribute present", async () => {
    const { report, breakdown } = await evaluate(native);
    expect(report.breakdowns.map((b) => [b.attribute, b.groups.map((g) => g.value)])).toEqual([
      ["light", ["day", "night"]],
      ["phone", ["a", "b"]],
    ]);
    const light = report.breakdowns[0]!.groups;
    // day: TP 48 FP 6 FN 6 -> 96/108; night: TP 54 FP 6 FN 0 -> 108/114
    expect(light[0]!.scores.pooled.binarised?.f1).toBe(96 / 108);
    expect(light[1]!.scores.pooled.binarised?.f1).toBe(108 / 114);
    // three images in three folds: one image per fold
    const dayF1 = meanAndStd([1, 36 / 42, 36 / 42]);
    expect(light[0]!.scores.summary?.f1?.mean).toBeCloseTo(dayF1.mean, 12);
    expect(light[0]!.scores.summary?.f1?.std).toBeCloseTo(dayF1.std, 12);

    const lines = breakdown.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "attribute,value,images,f1,f1_std,precision,precision_std,recall,recall_std,iou,iou_std," +
        "prob_f1,prob_f1_std,prob_precision,prob_precision_std,prob_recall,prob_recall_std," +
        "prob_iou,prob_iou_std,prob_threshold,prob_threshold_std,pr_auc,pr_auc_std,pooled_f1,pooled_prob_f1",
    );
    expect(lines.slice(1).map((l) => l.split(",").slice(0, 5).join(","))).toEqual([
      `all,,6,${Number(report.overall.summary!.f1!.mean.toFixed(6))},${Number(report.overall.summary!.f1!.std.toFixed(6))}`,
      `light,day,3,${Number(dayF1.mean.toFixed(6))},${Number(dayF1.std.toFixed(6))}`,
      expect.stringMatching(/^light,night,3,/),
      expect.stringMatching(/^phone,a,3,/),
      expect.stringMatching(/^phone,b,3,/),
    ]);
  });

  it("keeps the binarised figures when everything is resized to 480x360 (whole-pixel blocks)", async () => {
    const small = await evaluate(native);
    const { report } = await evaluate({ ...native, size: [480, 360], breakdown_by: ["light"] });
    expect(report.size).toEqual([480, 360]);
    expect(report.overall.pooled.binarised).toMatchObject({ tp: 102 * 3600, fp: 12 * 3600, fn: 6 * 3600 });
    expect(report.overall.summary?.f1?.mean).toBeCloseTo(small.report.overall.summary!.f1!.mean, 12);
    expect(report.overall.summary?.iou?.mean).toBeCloseTo(small.report.overall.summary!.iou!.mean, 12);
    expect(report.breakdowns.map((b) => b.attribute)).toEqual(["light"]);
    // the ramp is interpolated between columns, so the best cut moves but stays good
    expect(report.overall.summary?.prob_f1?.mean).toBeGreaterThan(0.85);
    expect(report.warnings).toEqual([]);
  });

  it("deals folds from the seed: another seed, other folds, same pooled figures", async () => {
    const a = await evaluate(native, 7);
    const b = await evaluate(native, 8);
    expect(b.report.overall.pooled).toEqual(a.report.overall.pooled);
    const foldsOf = (seed: number) => splitEvenly(foldOrder(Object.keys(SIX_COUNTS), seed), 3);
    expect(foldsOf(8)).not.toEqual(foldsOf(7));
  });

  it("uses one fold per image when there are fewer images than folds, and says so", async () => {
    const { report, outcome } = await evaluate({ ...native, folds: 10 }, 7);
    expect(report.folds).toBe(6);
    expect(report.warnings).toEqual(["only 6 images: scored with 6 folds instead of 10"]);
    expect(outcome.metrics?.f1).not.toBeNull();
  });

  it("fails naming an attribute no image has", async () => {
    await expect(evaluate({ ...native, breakdown_by: ["gaze"] })).rejects.toThrow(
      "breakdown_by: no image has attribute gaze (attributes present: light, phone)",
    );
  });

  it("fails clearly when the submission has no ground truth", async () => {
    const submission = await temp.make("mu-pipe-eval-");
    await writeSubmission(submission, SIX);
    await rm(path.join(submission, "GroundTruth"), { recursive: true });
    const run = context(native, { submission }, await temp.make("mu-pipe-eval-out-"));
    await expect(runStage(evaluateStage, run)).rejects.toThrow(
      "evaluate: the submission has no GroundTruth/ folder: its images had no ground truth to score against",
    );
  });
});

describe("evaluate stage module", () => {
  it("does not load sharp when imported (the registry imports it for status and dag)", async () => {
    // Built by test/global-setup.ts; the control import shows the check can see sharp.
    const script = (module: string): string =>
      `import { createRequire } from "node:module"; await import(${JSON.stringify(module)}); ` +
      `process.stdout.write(String(Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("sharp"))));`;
    const dist = path.resolve(import.meta.dirname, "../../dist/stages/eval");
    const run = async (module: string) =>
      (await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script(path.join(dist, module))])).stdout;
    expect(await run("evaluate.js")).toBe("false");
    expect(await run("read-images.js")).toBe("true");
  });
});
