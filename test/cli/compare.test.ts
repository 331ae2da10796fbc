import { captureIO } from "../capture-io.js";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { compareCommand } from "../../cli/commands/compare.js";
import { flattenConfig } from "../../cli/compare-runs.js";
import { MuPipeError } from "../../pipeline/failure.js";
import type { RunMetrics, RunRecord } from "../../pipeline/formats.js";

let cwd: string;

const A = "20261124T100000Z-quickstart";
const B = "20261125T100000Z-quickstart";
const C = "20261126T100000Z-quickstart";

function config(lr: number, size: number, extra = ""): string {
  return `# Resolved from configs/quickstart.yaml
name: quickstart
seed: 7
stages:
  resize:
    uses: resize
    params:
      size: ${size}
      mean: [0.5, 0.5, 0.5]
  finetune2:
    uses: train
    params:
      lr: ${lr}
      epochs: 30
${extra}`;
}

async function writeRun(id: string, configText: string | null, metrics: RunMetrics["stages"]): Promise<void> {
  const dir = path.join(cwd, "runs", id);
  await mkdir(dir, { recursive: true });
  const record: RunRecord = {
    version: 1,
    id,
    experiment: "quickstart",
    configFile: "configs/quickstart.yaml",
    status: "succeeded",
    startedAt: "2026-11-24T10:00:00.000Z",
    finishedAt: "2026-11-24T10:01:00.000Z",
    argv: ["run", "configs/quickstart.yaml"],
    pid: 1,
    hostname: "test-host",
    stages: Object.keys(metrics).map((stage) => ({
      id: stage,
      uses: stage,
      status: "succeeded",
      reason: "no cached result",
      fingerprintKey: null,
      artifactDigest: null,
      startedAt: null,
      finishedAt: null,
      durationMs: 1000,
      error: null,
    })),
  };
  await writeFile(path.join(dir, "run.json"), JSON.stringify(record));
  await writeFile(path.join(dir, "metrics.json"), JSON.stringify({ version: 1, stages: metrics } satisfies RunMetrics));
  if (configText !== null) await writeFile(path.join(dir, "config.yaml"), configText);
}

beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-compare-"));
  await writeRun(A, config(0.0001, 224), { finetune2: { best_val_dice: 0.9, device: "cpu" }, evaluate: { f1: 0.8734, images: 40 } });
  await writeRun(B, config(0.00003, 224), { finetune2: { best_val_dice: 0.912, device: "cpu" }, evaluate: { f1: 0.8812, images: 40 } });
  await writeRun(C, config(0.00003, 256, "  extra:\n    uses: export\n"), { finetune2: { best_val_dice: 0.85, device: "gpu" }, evaluate: { f1: 0, images: 40 } });
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});


describe("mu-pipe compare", () => {
  it("renders the differing params and metric deltas as GitHub markdown", async () => {
    const io = captureIO(cwd);
    expect(await compareCommand.run([A, B, "--format", "md"], io)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "### Params that differ",
        "",
        `| param | ${A} | ${B} |`,
        "| --- | --- | --- |",
        "| `stages.finetune2.params.lr` | 0.0001 | 0.00003 |",
        "",
        "### Metrics",
        "",
        `| metric | ${A} | ${B} |`,
        "| --- | ---: | ---: |",
        "| `finetune2.best_val_dice` | 0.9 | 0.912 (+0.012, +1.3%) |",
        "| `finetune2.device` | cpu | cpu |",
        "| `evaluate.f1` | 0.8734 | 0.8812 (+0.0078, +0.9%) |",
        "| `evaluate.images` | 40 | 40 |",
        "",
      ].join("\n"),
    );
  });

  it("compares three runs against the first, showing keys only some runs have as unset", async () => {
    const io = captureIO(cwd);
    expect(await compareCommand.run([A, B, C], io)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "params that differ",
        `  KEY                         ${A}  ${B}  ${C}`,
        "  stages.resize.params.size   224                          224                          256",
        "  stages.finetune2.params.lr  0.0001                       0.00003                      0.00003",
        "  stages.extra.uses           (unset)                      (unset)                      export",
        "",
        "metrics",
        `  METRIC                   ${A}  ${B}               Δ  ${C}                 Δ`,
        "  finetune2.best_val_dice                          0.9                        0.912   +0.012, +1.3%                         0.85      -0.05, -5.6%",
        "  finetune2.device                                 cpu                          cpu                                          gpu",
        "  evaluate.f1                                   0.8734                       0.8812  +0.0078, +0.9%                            0  -0.8734, -100.0%",
        "  evaluate.images                                   40                           40                                           40",
        "",
      ].join("\n"),
    );
  });

  it("says when no params differ and leaves out Δ columns with nothing in them", async () => {
    const io = captureIO(cwd);
    await compareCommand.run([A, `runs/${A}`], io);
    expect(io.stdout()).toBe(
      [
        "params that differ",
        "  (none)",
        "",
        "metrics",
        `  METRIC                   ${A}  ${A}`,
        "  finetune2.best_val_dice                          0.9                          0.9",
        "  finetune2.device                                 cpu                          cpu",
        "  evaluate.f1                                   0.8734                       0.8734",
        "  evaluate.images                                   40                           40",
        "",
      ].join("\n"),
    );
  });

  it("prints parseable JSON with raw deltas", async () => {
    const io = captureIO(cwd);
    await compareCommand.run(["latest~1", "latest", "--format", "json"], io);
    const result = JSON.parse(io.stdout()) as {
      runs: { id: string }[];
      params: { key: string; values: unknown[] }[];
      metrics: { key: string; deltas: ({ absolute: number; percent: number | null } | null)[] }[];
    };
    expect(result.runs.map((r) => r.id)).toEqual([B, C]);
    expect(result.params.map((p) => p.key)).toEqual(["stages.resize.params.size", "stages.extra.uses"]);
    const f1 = result.metrics.find((m) => m.key === "evaluate.f1");
    expect(f1?.deltas[0]).toBeNull();
    expect(f1?.deltas[1]?.absolute).toBeCloseTo(-0.8812);
    expect(f1?.deltas[1]?.percent).toBeCloseTo(-100);
  });

  it("needs at least two runs", async () => {
    await expect(compareCommand.run([A], captureIO(cwd))).rejects.toThrow(MuPipeError);
    await expect(compareCommand.run([A, B, "--format", "csv"], captureIO(cwd))).rejects.toThrow("--format must be table, md, json or html, not csv");
  });
});

describe("mu-pipe compare --changed-only", () => {
  it("keeps only metrics that differ, and shows what the stages ran on apart from the metrics", async () => {
    const write = async (id: string, environment: Record<string, string | number>, metrics: RunMetrics["stages"]): Promise<void> => {
      const dir = path.join(cwd, "env-runs", id);
      await mkdir(dir, { recursive: true });
      const train = { id: "train", uses: "finetune", status: "succeeded", reason: "", fingerprintKey: null, artifactDigest: null, startedAt: null, finishedAt: null, durationMs: 1, error: null, environment };
      const record = { version: 1, id, experiment: "eyes", configFile: "e.yaml", status: "succeeded", startedAt: "2026-11-24T10:00:00.000Z", finishedAt: null, argv: [], pid: 1, hostname: "h", stages: [train] };
      await writeFile(path.join(dir, "run.json"), JSON.stringify(record));
      await writeFile(path.join(dir, "metrics.json"), JSON.stringify({ version: 1, stages: metrics }));
      await writeFile(path.join(dir, "config.yaml"), "name: eyes\n");
    };
    await write("20261201T100000Z-eyes", { backend: "wasm", threads: 2 }, { train: { f1: 0.9, epochs: 30 } });
    await write("20261202T100000Z-eyes", { backend: "tensorflow", threads: 2 }, { train: { f1: 0.92, epochs: 30 } });
    const io = captureIO(cwd);
    expect(await compareCommand.run(["20261201", "20261202", "--runs-dir", "env-runs", "--changed-only"], io)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "params that differ",
        "  (none)",
        "",
        "environment (what the stages ran on)",
        "  KEY            20261201T100000Z-eyes  20261202T100000Z-eyes",
        "  train.backend  wasm                   tensorflow",
        "",
        "metrics",
        "  METRIC    20261201T100000Z-eyes  20261202T100000Z-eyes             Δ",
        "  train.f1                    0.9                   0.92  +0.02, +2.2%",
        "",
      ].join("\n"),
    );
    const all = captureIO(cwd);
    await compareCommand.run(["20261201", "20261202", "--runs-dir", "env-runs"], all);
    expect(all.stdout()).toContain("  train.threads  2                      2\n");
    expect(all.stdout()).toContain("  train.epochs                     30                     30\n");
  });
});

describe("flattenConfig", () => {
  it("flattens nested keys, keeps lists of scalars whole and indexes lists of objects", () => {
    expect([...flattenConfig({ a: { b: 1, c: [1, 2] }, layers: [{ filters: 8 }, { filters: 16 }], empty: {} })]).toEqual([
      ["a.b", 1],
      ["a.c", [1, 2]],
      ["layers[0].filters", 8],
      ["layers[1].filters", 16],
      ["empty", "{}"],
    ]);
  });
});
