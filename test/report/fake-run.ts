/**
 * Run folders for report tests, written inline: run.json, metrics.json, config.yaml and
 * the artifact files the stage types' report hooks read (history.csv, threshold.json,
 * curve.csv, pr.csv, per-image.csv, overlay JPEGs), in the formats the stages write.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import sharp from "sharp";
import { stringify } from "yaml";

import type { RunMetrics, RunRecord, StageRunEntry } from "../../pipeline/formats.js";

export interface FakeHistoryRow {
  readonly epoch: number;
  readonly loss: number;
  readonly val_loss: number;
  readonly dice: number;
  readonly lr: number;
}

export interface FakeRunOptions {
  readonly id: string;
  readonly experiment?: string;
  readonly startedAt: string;
  /** finetune2's learning rate (the param that differs between two fake runs). */
  readonly lr: number;
  /** Per-epoch rows of finetune1 and finetune2. */
  readonly history: readonly FakeHistoryRow[];
  readonly threshold: number;
  /** F1 of each test image, img_1.png, img_2.png, ... */
  readonly imageF1: readonly number[];
  /** The run stops at finetune2: it fails, and later stages are skipped with no artifacts. */
  readonly failAtFinetune2?: boolean;
}

export const STAGES = [
  { id: "load", uses: "load" },
  { id: "finetune1", uses: "finetune" },
  { id: "finetune2", uses: "finetune" },
  { id: "threshold", uses: "threshold" },
  { id: "predict", uses: "predict" },
  { id: "evaluate", uses: "evaluate" },
] as const;

/** F1 and the precision and recall beside it, at each threshold 0, 0.1, ..., 1. */
export function thresholdCurve(chosen: number): { threshold: number; precision: number; recall: number; f1: number }[] {
  return Array.from({ length: 11 }, (_, i) => {
    const threshold = i / 10;
    const recall = Number((1 - threshold * 0.9).toFixed(6));
    const precision = Number((0.3 + 0.6 * threshold).toFixed(6));
    const f1 = Number((0.9 - Math.abs(threshold - chosen)).toFixed(6));
    return { threshold, precision, recall, f1 };
  });
}

export async function writeFakeRun(runsDir: string, options: FakeRunOptions): Promise<string> {
  const experiment = options.experiment ?? "eyes";
  const dir = path.join(runsDir, options.id);
  const artifacts = path.join(dir, "artifacts");
  await mkdir(path.join(dir, "logs"), { recursive: true });
  const failed = options.failAtFinetune2 === true;

  const entry = (id: string, uses: string, i: number): StageRunEntry => {
    const status: StageRunEntry["status"] = id === "load" ? "reused" : failed && id === "finetune2" ? "failed" : failed && i > 2 ? "skipped" : "succeeded";
    return {
      id,
      uses,
      status,
      reason: status === "reused" ? "fingerprint matches a cached result" : status === "skipped" ? "not run: the run stopped at finetune2" : "params.optimizer.lr changed",
      fingerprintKey: `fp-${id}`,
      artifactDigest: status === "succeeded" || status === "reused" ? `sha256:${id}` : null,
      startedAt: options.startedAt,
      finishedAt: options.startedAt,
      durationMs: status === "reused" ? 0 : status === "skipped" ? null : 1000 * (i + 1),
      error: status === "failed" ? "loss became NaN at epoch 2" : null,
      environment: uses === "finetune" ? { backend: "cpu", backend_version: "4.22.0", threads: 2 } : null,
      ...(status === "reused" ? { computedMs: 4_500 } : {}),
    };
  };
  const stages = STAGES.map((s, i) => entry(s.id, s.uses, i));
  const record: RunRecord = {
    version: 1,
    id: options.id,
    experiment,
    configFile: `/exp/${experiment}.yaml`,
    status: failed ? "failed" : "succeeded",
    startedAt: options.startedAt,
    finishedAt: new Date(Date.parse(options.startedAt) + 65_000).toISOString(),
    argv: ["run", `${experiment}.yaml`],
    pid: 1,
    hostname: "test-host",
    stages,
  };
  await writeFile(path.join(dir, "run.json"), JSON.stringify(record, null, 2));

  const config = {
    experiment,
    settings: { seed: 42 },
    stages: {
      load: { uses: "load", params: { source: { kind: "synthetic", count: 24 } } },
      finetune1: { uses: "finetune", inputs: { tensors: "resize.tensors" }, params: { epochs: options.history.length, optimizer: { lr: 0.001 } } },
      finetune2: { uses: "finetune", inputs: { model: "finetune1.best" }, params: { epochs: options.history.length, optimizer: { lr: options.lr } } },
      threshold: { uses: "threshold", inputs: { model: "finetune2.best" }, params: { step: 0.1 } },
      predict: { uses: "predict", inputs: { model: "threshold.model" }, params: { overlays: true } },
      evaluate: { uses: "evaluate", inputs: { submission: "predict.submission" }, params: { folds: 5 } },
    },
  };
  await writeFile(path.join(dir, "config.yaml"), `# Resolved from /exp/${experiment}.yaml\n${stringify(config)}`);

  const best = options.history.reduce((a, b) => (b.val_loss < a.val_loss ? b : a));
  const finetuneMetrics = { best_epoch: best.epoch, best_val_loss: best.val_loss, best_val_dice: best.dice, epochs_run: options.history.length, backend: "cpu" };
  const metrics: Record<string, Record<string, number | string>> = { load: { items: 24 }, finetune1: finetuneMetrics };
  await mkdir(path.join(artifacts, "load", "dataset"), { recursive: true });
  await writeFinetune(path.join(artifacts, "finetune1"), options.history);
  if (!failed) {
    metrics.finetune2 = finetuneMetrics;
    await writeFinetune(path.join(artifacts, "finetune2"), options.history);
    const curve = thresholdCurve(options.threshold);
    const at = curve.find((p) => Math.abs(p.threshold - options.threshold) < 1e-9) ?? curve[0];
    metrics.threshold = { threshold: options.threshold, f1: at?.f1 ?? 0 };
    await writeThreshold(path.join(artifacts, "threshold"), options.threshold, curve);
    metrics.predict = { images: options.imageF1.length };
    await writePredict(path.join(artifacts, "predict"), options.imageF1.length);
    const meanF1 = options.imageF1.reduce((a, b) => a + b, 0) / options.imageF1.length;
    metrics.evaluate = { f1: Number(meanF1.toFixed(6)), images: options.imageF1.length };
    await writeEvaluate(path.join(artifacts, "evaluate"), options.imageF1);
  }
  await writeFile(path.join(dir, "metrics.json"), JSON.stringify({ version: 1, stages: metrics } satisfies RunMetrics));
  return dir;
}

async function writeFinetune(dir: string, history: readonly FakeHistoryRow[]): Promise<void> {
  await mkdir(path.join(dir, "best"), { recursive: true });
  const rows = history.map((h) => [h.epoch, h.loss, h.val_loss, h.dice, 0.9, 0.8, h.lr, 12.5, 6.4].join(","));
  await writeFile(path.join(dir, "history.csv"), `epoch,loss,val_loss,dice,precision,recall,lr,seconds,images_per_second\n${rows.join("\n")}\n`);
}

async function writeThreshold(dir: string, threshold: number, curve: ReturnType<typeof thresholdCurve>): Promise<void> {
  await mkdir(path.join(dir, "model"), { recursive: true });
  const at = curve.find((p) => Math.abs(p.threshold - threshold) < 1e-9) ?? curve[0];
  const record = { version: 1, threshold, f1: at?.f1, precision: at?.precision, recall: at?.recall, split: "train", images: 12 };
  await writeFile(path.join(dir, "threshold.json"), JSON.stringify(record, null, 2));
  await writeFile(path.join(dir, "curve.csv"), `threshold,precision,recall,f1\n${curve.map((p) => [p.threshold, p.precision, p.recall, p.f1].join(",")).join("\n")}\n`);
  await writeFile(path.join(dir, "pr.csv"), `recall,precision\n${curve.map((p) => `${p.recall},${p.precision}`).join("\n")}\n0,1\n`);
}

/** Overlays: photos of a different grey each, 320x240 (the report shrinks them). */
async function writePredict(dir: string, count: number): Promise<void> {
  await mkdir(path.join(dir, "submission", "GroundTruth"), { recursive: true });
  await mkdir(path.join(dir, "overlays"), { recursive: true });
  for (let i = 1; i <= count; i++) {
    const level = Math.round((255 * i) / (count + 1));
    await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: level, g: 0, b: 255 - level } } })
      .jpeg()
      .toFile(path.join(dir, "overlays", `img_${i}.jpg`));
  }
}

async function writeEvaluate(dir: string, f1: readonly number[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const rows = f1.map((value, i) => `img_${i + 1}.png,test,,${i % 5 + 1},10,2,3,85,0.8,0.7,${value},0.6`);
  await writeFile(path.join(dir, "per-image.csv"), `name,split,subject,fold,tp,fp,fn,tn,precision,recall,f1,iou\n${rows.join("\n")}\n`);
  await writeFile(path.join(dir, "report.json"), "{}\n");
}

/** The JSON data block of a report page. */
export function pageData<T = unknown>(html: string): T {
  const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match?.[1]) throw new Error("no report-data block in the page");
  return JSON.parse(match[1]) as T;
}

export const HISTORY_A: readonly FakeHistoryRow[] = [
  { epoch: 1, loss: 0.81, val_loss: 1.15, dice: 0.44, lr: 0.001 },
  { epoch: 2, loss: 0.45, val_loss: 0.64, dice: 0.82, lr: 0.001 },
  { epoch: 3, loss: 0.25, val_loss: 0.29, dice: 0.89, lr: 0.0001 },
  { epoch: 4, loss: 0.16, val_loss: 0.31, dice: 0.9, lr: 0.0001 },
];

export const HISTORY_B: readonly FakeHistoryRow[] = [
  { epoch: 1, loss: 0.7, val_loss: 0.9, dice: 0.5, lr: 0.0003 },
  { epoch: 2, loss: 0.4, val_loss: 0.5, dice: 0.84, lr: 0.0003 },
  { epoch: 3, loss: 0.2, val_loss: 0.25, dice: 0.91, lr: 0.0003 },
  { epoch: 4, loss: 0.12, val_loss: 0.22, dice: 0.93, lr: 0.00003 },
  { epoch: 5, loss: 0.1, val_loss: 0.21, dice: 0.94, lr: 0.00003 },
];

export const IMAGE_F1 = [0.91, 0.42, 0.88, 0.12, 0.95, 0.67, 0.73, 0.3] as const;
