import { Writable } from "node:stream";

import { ListrLogger as Listr2Logger, ProcessOutput } from "listr2";
import { describe, expect, it } from "vitest";

import type { CommandIO } from "../../cli/command.js";
import { createLogger } from "../../cli/output/logger.js";
import { ListrLogger } from "../../cli/output/listr-logger.js";
import { PlainLogger } from "../../cli/output/plain-logger.js";
import type { PipelineEvent } from "../../pipeline/events.js";

const cwd = "/work/proj";
const runDir = `${cwd}/runs/20261126T021500Z-quickstart`;

function fakeIO(interactive = false): CommandIO & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    cwd,
    env: {},
    interactive,
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    stdout: () => out,
    stderr: () => err,
  };
}

const runStart: PipelineEvent = {
  type: "run-start",
  runId: "20261126T021500Z-quickstart",
  runDir,
  experiment: "quickstart",
  stages: [
    { id: "load", uses: "load" },
    { id: "resize", uses: "resize" },
    { id: "finetune1", uses: "train" },
    { id: "finetune2", uses: "train" },
    { id: "export", uses: "export" },
  ].map((s) => ({ ...s, selected: s.id !== "export" })),
};

describe("PlainLogger", () => {
  it("prints one line per meaningful event", async () => {
    const io = fakeIO();
    const now = 0;
    const logger = new PlainLogger(io, { now: () => now });
    const events: PipelineEvent[] = [
      runStart,
      { type: "stage-reused", id: "load", reason: "fingerprint matches run 20261125T100000Z-quickstart", artifactDigest: "sha256:abcdef0123456789" },
      { type: "stage-start", id: "resize", reason: "params.size changed: 224 -> 256" },
      { type: "stage-progress", id: "resize", update: { current: 10, total: 160, unit: "images" }, etaSeconds: 42 },
      { type: "stage-progress", id: "resize", update: { current: 20, total: 160, unit: "images" }, etaSeconds: 40 },
      { type: "stage-succeeded", id: "resize", durationMs: 3200, metrics: { items_train: 160, images_per_s: 52.1234 } },
      { type: "stage-start", id: "finetune1", reason: "no cached result" },
      { type: "stage-failed", id: "finetune1", message: "out of memory", logFile: `${runDir}/logs/finetune1.log` },
      { type: "stage-waiting", id: "finetune2", holder: { owner: "pid 1234", pid: 1234, hostname: "", since: "2026-11-26T02:15:00Z", description: "finetune2" } },
      { type: "stage-skipped", id: "finetune2", reason: "upstream finetune1 failed" },
      { type: "run-end", runId: "20261126T021500Z-quickstart", runDir, status: "failed", durationMs: 12_345 },
    ];
    for (const event of events) logger.emit(event);
    await logger.close();
    expect(io.stdout()).toBe(
      [
        "[run] 20261126T021500Z-quickstart: 5 stages (4 selected)",
        "[load] reused (fingerprint matches run 20261125T100000Z-quickstart)",
        "[resize] running: params.size changed: 224 -> 256",
        "[resize] 10/160 images (6%) · ETA 42s",
        "[resize] done in 3.2s  items_train=160 images_per_s=52.12",
        "[finetune1] running: no cached result",
        "[finetune1] FAILED: out of memory",
        "[finetune1] log: runs/20261126T021500Z-quickstart/logs/finetune1.log",
        "[finetune2] waiting: pid 1234 is computing the same stage",
        "[finetune2] skipped: upstream finetune1 failed",
        "[run] failed after 12.3s -> runs/20261126T021500Z-quickstart",
        "",
      ].join("\n"),
    );
    expect(io.stderr()).toBe("");
  });

  it("gathers a group's figures (kind=webcam.f1, kind=webcam.images) into one item of the done line", () => {
    const io = fakeIO();
    const logger = new PlainLogger(io);
    logger.emit({
      type: "stage-succeeded",
      id: "evaluate",
      durationMs: 1200,
      metrics: { f1: 0.8, "kind=webcam.f1": 0.71, "kind=webcam.images": 20, "kind=unityeyes.f1": 0.9, "kind=unityeyes.images": 178, "kind=webcam.f1_std": 0.1, pr_auc: 0.85 },
    });
    expect(io.stdout()).toBe("[evaluate] done in 1.2s  f1=0.8 kind=webcam[f1=0.71 images=20 f1_std=0.1] kind=unityeyes[f1=0.9 images=178] pr_auc=0.85\n");
  });

  it("leaves more than 8 groups to mu-pipe show, saying how many", () => {
    const io = fakeIO();
    const logger = new PlainLogger(io);
    const metrics = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`skin=${i + 1}.train`, i]));
    logger.emit({ type: "stage-succeeded", id: "load", durationMs: 1200, metrics: { items: 300, attributes: "skin", ...metrics } });
    expect(io.stdout()).toBe("[load] done in 1.2s  items=300 attributes=skin (+9 groups of figures, e.g. skin=1: mu-pipe show)\n");
  });

  it("says at once that Ctrl-C is stopping the run, what a stage resumes from, and a failure's log on its own line", () => {
    const io = fakeIO();
    const logger = new PlainLogger(io);
    const events: PipelineEvent[] = [
      { type: "stage-start", id: "finetune1", reason: "no cached result for this fingerprint", resume: "epoch 3 of 30" },
      { type: "run-stopping", stageId: "finetune1", hurry: false },
      { type: "run-stopping", stageId: "finetune1", hurry: true },
      { type: "stage-interrupted", id: "finetune1" },
      { type: "run-stopping", stageId: null, hurry: false },
      { type: "run-stopping", stageId: null, hurry: true },
      { type: "stage-failed", id: "load", message: "2 input file problems:\n  a.png: unreadable\n  b.png: no mask", logFile: `${runDir}/logs/load.log` },
      { type: "stage-failed", id: "c", message: "input `a` needs stage a, which failed", logFile: null },
    ];
    for (const event of events) logger.emit(event);
    expect(io.stdout()).toBe(
      [
        "[finetune1] running: no cached result for this fingerprint; resumes after epoch 3 of 30",
        "[run] stopping: waiting for finetune1 to stop (Ctrl-C again to stop at once)",
        "[run] stopping now, without waiting for finetune1 to finish its step",
        "[finetune1] interrupted",
        "[run] stopping (Ctrl-C again to stop at once)",
        "[run] stopping now",
        "[load] FAILED: 2 input file problems:",
        "  a.png: unreadable",
        "  b.png: no mask",
        "[load] log: runs/20261126T021500Z-quickstart/logs/load.log",
        "[c] FAILED: input `a` needs stage a, which failed",
        "",
      ].join("\n"),
    );
  });

  it("throttles progress to one line per stage every 5s, plus the line that reaches 100%", () => {
    const io = fakeIO();
    let now = 0;
    const logger = new PlainLogger(io, { now: () => now });
    const progress = (current: number, message?: string): PipelineEvent => ({
      type: "stage-progress",
      id: "finetune1",
      update: { current, total: 30, ...(message ? { message } : {}) },
      etaSeconds: (30 - current) * 10,
    });
    logger.emit(progress(1, "epoch 1/30 loss 0.90")); // t=0: printed
    now = 4_999;
    logger.emit(progress(2, "epoch 2/30 loss 0.80")); // too soon
    now = 5_000;
    logger.emit(progress(3, "epoch 3/30 loss 0.41")); // printed
    now = 6_000;
    logger.emit(progress(30, "epoch 30/30 loss 0.10")); // 100%: printed
    expect(io.stdout()).toBe(
      [
        "[finetune1] epoch 1/30 loss 0.90 · 3% · ETA 4m50s",
        "[finetune1] epoch 3/30 loss 0.41 · 10% · ETA 4m30s",
        "[finetune1] epoch 30/30 loss 0.10 · 100% · ETA 0s",
        "",
      ].join("\n"),
    );
  });

  it("shows unselected stages and artifact digests only when verbose", () => {
    const io = fakeIO();
    const logger = new PlainLogger(io, { verbose: true });
    logger.emit(runStart);
    logger.emit({ type: "stage-reused", id: "load", reason: "fingerprint matches run X", artifactDigest: "sha256:abcdef0123456789" });
    logger.emit({ type: "run-end", runId: "r", runDir, status: "succeeded", durationMs: 850 });
    expect(io.stdout()).toBe(
      [
        "[run] 20261126T021500Z-quickstart: 5 stages (4 selected)",
        "[export] skipped: not selected",
        "[load] reused (fingerprint matches run X) artifact abcdef012345",
        "[run] succeeded in 850ms -> runs/20261126T021500Z-quickstart",
        "",
      ].join("\n"),
    );
  });
});

describe("createLogger", () => {
  it("uses plain lines when not interactive and listr2 on a terminal", () => {
    expect(createLogger(fakeIO(false))).toBeInstanceOf(PlainLogger);
    expect(createLogger(fakeIO(true))).toBeInstanceOf(ListrLogger);
  });
});

describe("ListrLogger", () => {
  function capture(): { logger: Listr2Logger; text: () => string } {
    let text = "";
    const sink = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        text += chunk.toString();
        callback();
      },
    }) as unknown as NodeJS.WriteStream;
    return { logger: new Listr2Logger({ processOutput: new ProcessOutput(sink, sink) }), text: () => text };
  }

  it("settles every stage's task from events and finishes on run-end without throwing", async () => {
    const output = capture();
    const io = fakeIO(true);
    const logger = new ListrLogger({ io, renderer: "test", rendererOptions: { logger: output.logger, output: true, title: true } });
    logger.emit(runStart);
    logger.emit({ type: "stage-reused", id: "load", reason: "fingerprint matches", artifactDigest: "sha256:00" });
    logger.emit({ type: "stage-start", id: "resize", reason: "params.size changed: 224 -> 256" });
    logger.emit({ type: "stage-progress", id: "resize", update: { message: "epoch 3/30 batch 120/223 loss 0.41", current: 3, total: 30 }, etaSeconds: 130 });
    logger.emit({ type: "stage-succeeded", id: "resize", durationMs: 3200, metrics: {} });
    logger.emit({ type: "stage-start", id: "finetune1", reason: "no cached result" });
    logger.emit({ type: "run-stopping", stageId: "finetune1", hurry: false });
    logger.emit({ type: "stage-failed", id: "finetune1", message: "out of memory", logFile: `${runDir}/logs/finetune1.log` });
    logger.emit({ type: "run-end", runId: "r", runDir, status: "failed", durationMs: 5000 });
    await expect(logger.close()).resolves.toBeUndefined();
    const text = output.text();
    expect(text).toContain("load (load) · reused");
    expect(text).toContain("epoch 3/30 batch 120/223 loss 0.41 · 10% · ETA 2m10s");
    expect(text).toContain("resize (resize) · 3.2s");
    expect(text).toContain('"stopping: waiting for finetune1 to stop (Ctrl-C again to stop at once)"');
    expect(text).toContain(JSON.stringify("out of memory\nlog: runs/20261126T021500Z-quickstart/logs/finetune1.log"));
    expect(text).toContain("finetune2 (train) · skipped: not run");
    expect(text).not.toContain("export (export)");
    // Once listr has finished drawing, one closing line says where the run is.
    expect(io.stdout()).toBe("run failed after 5.0s -> runs/20261126T021500Z-quickstart\n");
  });

  it("closes even when the run never ended (executor threw)", async () => {
    const output = capture();
    const logger = new ListrLogger({ renderer: "test", rendererOptions: { logger: output.logger } });
    logger.emit(runStart);
    logger.emit({ type: "stage-start", id: "load", reason: "no cached result" });
    await expect(logger.close()).resolves.toBeUndefined();
  });
});
