import { captureIO } from "../capture-io.js";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runsCommand } from "../../cli/commands/runs.js";
import { showCommand } from "../../cli/commands/show.js";
import { pickHeadlineMetrics } from "../../cli/output/runs-table.js";
import { listRuns, resolveRun, type RunSummary } from "../../cli/run-lookup.js";
import type { RunMetrics, RunRecord, StageRunEntry } from "../../pipeline/formats.js";
import { failureOf } from "../failure-of.js";

let cwd: string;
let runsDir: string;

function stage(id: string, uses: string, status: StageRunEntry["status"], reason: string, extra: Partial<StageRunEntry> = {}): StageRunEntry {
  return {
    id,
    uses,
    status,
    reason,
    fingerprintKey: status === "pending" ? null : `fp-${id}`,
    artifactDigest: status === "succeeded" || status === "reused" ? `sha256:${id.padEnd(16, "0")}ffff` : null,
    startedAt: null,
    finishedAt: null,
    durationMs: status === "succeeded" ? 3200 : null,
    error: null,
    ...extra,
  };
}

async function writeRun(id: string, record: Omit<RunRecord, "version" | "id" | "argv" | "configFile" | "pid" | "hostname">, metrics: RunMetrics["stages"] | null): Promise<void> {
  const dir = path.join(runsDir, id);
  await mkdir(path.join(dir, "logs"), { recursive: true });
  const full: RunRecord = { version: 1, id, configFile: `configs/${record.experiment}.yaml`, argv: ["run", `configs/${record.experiment}.yaml`], pid: 1, hostname: "test-host", ...record };
  await writeFile(path.join(dir, "run.json"), JSON.stringify(full, null, 2));
  if (metrics) await writeFile(path.join(dir, "metrics.json"), JSON.stringify({ version: 1, stages: metrics } satisfies RunMetrics));
}

beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-runs-"));
  runsDir = path.join(cwd, "runs");
  await mkdir(path.join(runsDir, ".store", "artifacts"), { recursive: true });
  // Written out of order on purpose: listing must sort by the timestamp in the name.
  await writeRun(
    "20261125T100000Z-quickstart",
    {
      experiment: "quickstart",
      status: "succeeded",
      startedAt: "2026-11-25T10:00:00.000Z",
      finishedAt: "2026-11-25T10:02:10.000Z",
      stages: [
        stage("load", "load", "reused", "fingerprint matches run 20261124T100000Z-quickstart"),
        stage("finetune2", "train", "succeeded", "params.lr changed: 0.0001 -> 0.00003"),
        stage("evaluate", "evaluate", "succeeded", "upstream finetune2 changed"),
      ],
    },
    { finetune2: { best_val_dice: 0.912, epochs: 30 }, evaluate: { f1: 0.8812, images: 40 } },
  );
  await writeRun(
    "20261124T100000Z-quickstart",
    {
      experiment: "quickstart",
      status: "succeeded",
      startedAt: "2026-11-24T10:00:00.000Z",
      finishedAt: "2026-11-24T10:00:12.300Z",
      stages: [
        stage("load", "load", "succeeded", "no cached result"),
        stage("finetune2", "train", "succeeded", "no cached result"),
        stage("evaluate", "evaluate", "succeeded", "no cached result"),
      ],
    },
    { load: { items: 200 }, finetune2: { best_val_dice: 0.9, epochs: 30 }, evaluate: { f1: 0.8734, images: 40 } },
  );
  await writeRun(
    "20261126T021530Z-ablation",
    {
      experiment: "ablation",
      status: "failed",
      startedAt: "2026-11-26T02:15:30.000Z",
      finishedAt: "2026-11-26T02:15:35.000Z",
      stages: [
        stage("load", "load", "reused", "fingerprint matches run 20261125T100000Z-quickstart"),
        stage("finetune1", "train", "failed", "params.lr changed: 0.0001 -> 0.1", { error: "loss became NaN at epoch 2" }),
        stage("evaluate", "evaluate", "skipped", "upstream finetune1 failed"),
      ],
    },
    null,
  );
  // A half-written run.json still lists (as unknown); a folder without one does not.
  await mkdir(path.join(runsDir, "20261123T000000Z-broken"), { recursive: true });
  await writeFile(path.join(runsDir, "20261123T000000Z-broken", "run.json"), '{"version": 1, "id": "2026');
  await mkdir(path.join(runsDir, "20261122T000000Z-empty", "logs"), { recursive: true });
  await symlink("20261126T021530Z-ablation", path.join(runsDir, "latest"));
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("listRuns", () => {
  it("lists runs newest first, half-written ones as unknown, skipping the store, latest and folders without run.json", async () => {
    const runs = await listRuns(runsDir);
    expect(runs.map((r) => [r.id, r.status])).toEqual([
      ["20261126T021530Z-ablation", "failed"],
      ["20261125T100000Z-quickstart", "succeeded"],
      ["20261124T100000Z-quickstart", "succeeded"],
      ["20261123T000000Z-broken", "unknown"],
    ]);
    expect(runs[1]?.stages).toEqual({ ran: 2, reused: 1, failed: 0, other: 0 });
    expect(runs[1]?.durationMs).toBe(130_000);
    expect(runs[3]?.experiment).toBe("broken");
  });

  it("returns no runs when the folder does not exist", async () => {
    expect(await listRuns(path.join(cwd, "nowhere"))).toEqual([]);
  });
});

describe("resolveRun", () => {
  const dirOf = (id: string): string => path.join(runsDir, id);

  it("resolves latest through the symlink, and latest~N to the runs before it", async () => {
    expect(await resolveRun(runsDir, "latest", cwd)).toBe(dirOf("20261126T021530Z-ablation"));
    expect(await resolveRun(runsDir, "latest~1", cwd)).toBe(dirOf("20261125T100000Z-quickstart"));
    expect(await resolveRun(runsDir, "latest~2", cwd)).toBe(dirOf("20261124T100000Z-quickstart"));
  });

  it("resolves names, unique prefixes, experiment names and paths", async () => {
    expect(await resolveRun(runsDir, "20261124T100000Z-quickstart", cwd)).toBe(dirOf("20261124T100000Z-quickstart"));
    expect(await resolveRun(runsDir, "20261125", cwd)).toBe(dirOf("20261125T100000Z-quickstart"));
    expect(await resolveRun(runsDir, "quickstart", cwd)).toBe(dirOf("20261125T100000Z-quickstart"));
    expect(await resolveRun(runsDir, "quickstart~1", cwd)).toBe(dirOf("20261124T100000Z-quickstart"));
    expect(await resolveRun(runsDir, "runs/20261124T100000Z-quickstart", cwd)).toBe(dirOf("20261124T100000Z-quickstart"));
  });

  it("rejects an ambiguous prefix, listing the runs it matches", async () => {
    expect(await failureOf(resolveRun(runsDir, "2026112", cwd))).toEqual({
      reason: "not-found",
      what: "run",
      query: "2026112",
      candidates: ["20261126T021530Z-ablation", "20261125T100000Z-quickstart", "20261124T100000Z-quickstart", "20261123T000000Z-broken"],
    });
    expect(await failureOf(resolveRun(runsDir, "202611", cwd))).toMatchObject({ reason: "not-found", query: "202611" });
  });

  it("rejects a query that matches nothing, and latest~N past the oldest run", async () => {
    expect(await failureOf(resolveRun(runsDir, "nope", cwd))).toMatchObject({ reason: "not-found", what: "run", query: "nope" });
    expect(await failureOf(resolveRun(runsDir, "latest~9", cwd))).toMatchObject({ reason: "not-found", query: "latest~9" });
  });
});

describe("mu-pipe runs", () => {
  it("heads the table with the plain f1 of the last scoring stage, never a spread", () => {
    const run = {
      record: { stages: [{ id: "finetune2" }, { id: "threshold" }, { id: "evaluate" }] },
      metrics: {
        version: 1,
        stages: {
          finetune2: { best_val_dice: 0.93, best_val_loss: 0.1 },
          threshold: { threshold: 0.4, f1: 0.95 },
          evaluate: { f1: 0.91, f1_std: 0.01, prob_f1: 0.915, pooled_f1: 0.912 },
        },
      },
    } as unknown as RunSummary;
    expect(pickHeadlineMetrics([run])).toEqual(["evaluate.f1", "threshold.f1", "evaluate.pooled_f1"]);
  });

  it("prints a table, newest first, with headline metrics", async () => {
    const io = captureIO(cwd);
    expect(await runsCommand.run([], io)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "RUN                          EXPERIMENT  STATUS     STARTED (UTC)     DURATION  RAN  REUSED  FAILED  evaluate.f1  finetune2.best_val_dice",
        "20261126T021530Z-ablation    ablation    failed     2026-11-26 02:15      5.0s    1       1       1            -                        -",
        "20261125T100000Z-quickstart  quickstart  succeeded  2026-11-25 10:00     2m10s    2       1       0       0.8812                    0.912",
        "20261124T100000Z-quickstart  quickstart  succeeded  2026-11-24 10:00     12.3s    3       0       0       0.8734                      0.9",
        "20261123T000000Z-broken      broken      unknown    -                        -    0       0       0            -                        -",
        "",
      ].join("\n"),
    );
  });

  it("lists one experiment's runs, best first by --sort, and --limit keeps the columns of all of them", async () => {
    const io = captureIO(cwd);
    expect(await runsCommand.run(["quickstart", "--sort", "evaluate.f1", "--limit", "1"], io)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "RUN                          EXPERIMENT  STATUS     STARTED (UTC)     DURATION  RAN  REUSED  FAILED  evaluate.f1  finetune2.best_val_dice",
        "20261125T100000Z-quickstart  quickstart  succeeded  2026-11-25 10:00     2m10s    2       1       0       0.8812                    0.912",
        "",
      ].join("\n"),
    );
    const byLoss = captureIO(cwd);
    await runsCommand.run(["--sort", "finetune2.best_val_dice", "--format", "json"], byLoss);
    expect((JSON.parse(byLoss.stdout()) as { id: string }[]).map((r) => r.id).slice(0, 2)).toEqual(["20261125T100000Z-quickstart", "20261124T100000Z-quickstart"]);
  });

  it("names an unknown experiment or --sort metric with a did-you-mean", async () => {
    expect(await failureOf(runsCommand.run(["quickstrat"], captureIO(cwd)))).toMatchObject({ reason: "not-found", what: "experiment with runs", query: "quickstrat" });
    expect(await failureOf(runsCommand.run(["--sort", "evaluate.f2"], captureIO(cwd)))).toMatchObject({ reason: "not-found", what: "metric for --sort", query: "evaluate.f2" });
  });

  it("prints parseable JSON with --format json", async () => {
    const io = captureIO(cwd);
    await runsCommand.run(["--format", "json", "--runs-dir", "runs"], io);
    const runs = JSON.parse(io.stdout()) as { id: string; metrics: Record<string, unknown> }[];
    expect(runs.map((r) => r.id)[0]).toBe("20261126T021530Z-ablation");
    expect(runs[1]?.metrics["evaluate.f1"]).toBe(0.8812);
  });

  it("turns an unknown flag or format into a usage failure with the usage text", async () => {
    expect(await failureOf(runsCommand.run(["--colour"], captureIO(cwd)))).toMatchObject({ reason: "usage", hint: runsCommand.usage });
    expect(await failureOf(runsCommand.run(["--format", "xml"], captureIO(cwd)))).toMatchObject({ reason: "usage", message: "--format must be table or json, not xml" });
  });
});

describe("mu-pipe show", () => {
  it("shows each stage with its status, reason, duration and short digest, the errors, and the metrics", async () => {
    const io = captureIO(cwd);
    expect(await showCommand.run(["latest~1"], io)).toBe(0);
    expect(io.stdout()).toBe(
      [
        "run         20261125T100000Z-quickstart",
        "dir         runs/20261125T100000Z-quickstart",
        "experiment  quickstart",
        "config      configs/quickstart.yaml",
        "status      succeeded",
        "started     2026-11-25 10:00:00Z",
        "duration    2m10s",
        "command     mu-pipe run configs/quickstart.yaml",
        "",
        "STAGE      TYPE      STATUS     DURATION  ARTIFACT      REASON",
        "load       load      reused            -  load00000000  fingerprint matches run 20261124T100000Z-quickstart",
        "finetune2  train     succeeded      3.2s  finetune2000  params.lr changed: 0.0001 -> 0.00003",
        "evaluate   evaluate  succeeded      3.2s  evaluate0000  upstream finetune2 changed",
        "",
        "METRIC                    VALUE",
        "finetune2.best_val_dice   0.912",
        "finetune2.epochs             30",
        "evaluate.f1              0.8812",
        "evaluate.images              40",
        "",
      ].join("\n"),
    );
  });

  it("shows a failed stage's error and where its log is", async () => {
    const io = captureIO(cwd);
    await showCommand.run([], io);
    expect(io.stdout()).toContain("finetune1  train     failed");
    expect(io.stdout()).toContain("errors\n  finetune1: loss became NaN at epoch 2\n    log: runs/20261126T021530Z-ablation/logs/finetune1.log\n");
    expect(io.stdout()).toContain("skipped  ");
    expect(io.stdout()).toContain("upstream finetune1 failed");
  });

  it("prints the record as JSON with --format json", async () => {
    const io = captureIO(cwd);
    await showCommand.run(["20261124", "--format", "json"], io);
    const shown = JSON.parse(io.stdout()) as { record: RunRecord; metrics: RunMetrics };
    expect(shown.record.stages.map((s) => s.reason)).toEqual(["no cached result", "no cached result", "no cached result"]);
    expect(shown.metrics.stages["evaluate"]?.["f1"]).toBe(0.8734);
  });
});
