/**
 * configs/quickstart.yaml end to end, shrunk with --set so it takes seconds: every stage
 * runs and leaves its artifacts, metrics and the report; an identical rerun reuses every
 * stage; changing a stage-2 fine-tune param reruns that stage and what follows, nothing before.
 */
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../cli/main.js";
import type { RunRecord } from "../pipeline/formats.js";
import { captureIO } from "./capture-io.js";
import { repoRoot } from "./pipeline/engine-rig.js";

const TINY = [
  "stages.load.params.source.count=24",
  "stages.load.params.source.min_size=64",
  "stages.load.params.source.max_size=96",
  "stages.resize.params.size=32",
  "stages.finetune1.params.epochs=1",
  "stages.finetune1.params.recompute_bn_stats=2",
  "stages.finetune2.params.epochs=1",
  "stages.finetune2.params.recompute_bn_stats=2",
].flatMap((value) => ["--set", value]);

const STAGES = ["load", "flip", "resize", "finetune1", "finetune2", "threshold", "predict", "evaluate"];

let dir: string;

async function run(...extra: string[]): Promise<RunRecord> {
  const io = captureIO(dir);
  const code = await main(["run", "quickstart.yaml", ...TINY, ...extra], io);
  expect(code, io.stdout() + io.stderr()).toBe(0);
  return JSON.parse(await fs.readFile(path.join(dir, "runs/latest/run.json"), "utf8")) as RunRecord;
}

const statuses = (record: RunRecord): Record<string, string> => Object.fromEntries(record.stages.map((stage) => [stage.id, stage.status]));

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), "mu-pipe-quickstart-"));
  await fs.copyFile(path.join(repoRoot, "configs/quickstart.yaml"), path.join(dir, "quickstart.yaml"));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("configs/quickstart.yaml (shrunk)", () => {
  it("runs every stage and leaves artifacts, metrics and report.html", async () => {
    const record = await run();
    expect(record.status).toBe("succeeded");
    expect(record.stages.map((stage) => stage.id)).toEqual(STAGES);
    expect(Object.values(statuses(record))).toEqual(STAGES.map(() => "succeeded"));
    const runDir = path.join(dir, "runs", record.id);
    const metrics = JSON.parse(await fs.readFile(path.join(runDir, "metrics.json"), "utf8")) as { stages: Record<string, Record<string, number>> };
    expect(metrics.stages["evaluate"]?.["f1"]).toBeGreaterThanOrEqual(0);
    expect(metrics.stages["threshold"]?.["threshold"]).toBeGreaterThanOrEqual(0);
    for (const file of ["artifacts/finetune2/best", "artifacts/threshold/threshold.json", "artifacts/predict/submission/Binarised", "report.html"]) {
      await expect(fs.stat(path.join(runDir, file)), file).resolves.toBeTruthy();
    }
  });

  it("reuses every stage when nothing changed", async () => {
    const record = await run();
    expect(Object.values(statuses(record))).toEqual(STAGES.map(() => "reused"));
  });

  it("reruns finetune2 and what follows when one of its params changes, and nothing before", async () => {
    const record = await run("--set", "stages.finetune2.params.optimizer.lr=0.001");
    expect(statuses(record)).toEqual({
      load: "reused",
      flip: "reused",
      resize: "reused",
      finetune1: "reused",
      finetune2: "succeeded",
      threshold: "succeeded",
      predict: "succeeded",
      evaluate: "succeeded",
    });
    expect(record.stages.find((stage) => stage.id === "finetune2")?.reason).toContain("params.optimizer.lr changed: 0.002 -> 0.001");
  });
});
