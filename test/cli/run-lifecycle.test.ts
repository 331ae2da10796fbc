/** Dead runs, `latest` for commands that need a trained model, `runs rm`, and `gc` of what killed runs leave. */
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { RunRecord, StageRunEntry } from "../../pipeline/formats.js";
import { collectGarbage } from "../../pipeline/gc-policy.js";
import { listRuns } from "../../pipeline/run-folders.js";
import { findRun, type RunRequirement } from "../../pipeline/run-resolve.js";
import { HOST_TAG } from "../../pipeline/store/atomic-file.js";
import { openStore } from "../../pipeline/store/fs-store.js";
import { captureIO } from "../capture-io.js";
import { failureOf } from "../failure-of.js";

let cwd: string;
let runsDir: string;

/** A pid that certainly belongs to no process: a child that has exited and been reaped. */
const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid ?? 999_999;

function stage(id: string, status: StageRunEntry["status"], key: string | null = null): StageRunEntry {
  return { id, uses: id, status, reason: "", fingerprintKey: key, artifactDigest: null, startedAt: null, finishedAt: null, durationMs: null, error: null };
}

async function writeRun(id: string, fields: Partial<RunRecord> & Pick<RunRecord, "status" | "stages">): Promise<void> {
  const dir = path.join(runsDir, id);
  await mkdir(dir, { recursive: true });
  const experiment = id.replace(/^\d{8}T\d{6}Z-/, "");
  const record: RunRecord = {
    version: 1,
    id,
    experiment,
    configFile: `configs/${experiment}.yaml`,
    startedAt: `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:00:00.000Z`,
    finishedAt: null,
    argv: [],
    pid: 1,
    hostname: "elsewhere",
    ...fields,
  };
  await writeFile(path.join(dir, "run.json"), JSON.stringify(record));
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(cwd);
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

beforeEach(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-lifecycle-"));
  runsDir = path.join(cwd, "runs");
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("a run whose process is gone", () => {
  it("reads as died on this host, and stays running (saying where) on another", async () => {
    const pid = deadPid();
    await writeRun("20261201T100000Z-local", { status: "running", pid, hostname: os.hostname(), stages: [stage("load", "succeeded"), stage("train", "running")] });
    await writeRun("20261201T110000Z-remote", { status: "running", pid: 42, hostname: "gpu-7", stages: [stage("train", "running")] });
    await writeRun("20261201T120000Z-mine", { status: "running", pid: process.pid, hostname: os.hostname(), stages: [stage("train", "running")] });

    const runs = await listRuns(runsDir);
    expect(runs.map((run) => [run.id, run.status, run.statusDetail])).toEqual([
      ["20261201T120000Z-mine", "running", `pid ${process.pid}`],
      ["20261201T110000Z-remote", "running", "pid 42 on host gpu-7"],
      ["20261201T100000Z-local", "died", `pid ${pid} is gone`],
    ]);
    const show = await cli("show", "local");
    expect(show.out).toContain(`status      died (pid ${pid} is gone)\n`);
    expect(show.out).toMatch(/^train\s+train\s+died\s/m);
    expect((await cli("show", "remote")).out).toContain("status      running (pid 42 on host gpu-7)\n");
    expect((await cli("report", "local")).code).toBe(0);
    const page = await readFile(path.join(runsDir, "20261201T100000Z-local", "report.html"), "utf8");
    expect(page).toContain(`<span class="status status-died">died (pid ${pid} is gone)</span>`);
    expect(page).toContain('<span class="status status-died">died (its process is gone)</span>');
  });

  it("reads as died when its pid now belongs to another process", async () => {
    await writeRun("20261201T100000Z-reused", { status: "running", pid: process.pid, processStart: "1", hostname: os.hostname(), stages: [] });
    expect((await listRuns(runsDir))[0]?.status).toBe("died");
  });

  it("refuses a run.json of a version it does not know, saying so", async () => {
    await mkdir(path.join(runsDir, "20261201T100000Z-future"), { recursive: true });
    await writeFile(path.join(runsDir, "20261201T100000Z-future", "run.json"), JSON.stringify({ version: 2, experiment: "future", status: "succeeded", stages: [] }));
    const [run] = await listRuns(runsDir);
    expect([run?.status, run?.problem]).toEqual(["unknown", "run.json: unsupported version 2 (this mu-pipe reads version 1)"]);
  });
});

describe("latest for a command that needs something only some runs have", () => {
  const hasModel: RunRequirement = {
    what: "a trained model",
    otherwise: "pass --model <model folder>",
    check: (run) => (run.record?.stages.some((s) => s.id === "train" && s.status === "succeeded") ? null : "no train stage finished"),
  };
  beforeEach(async () => {
    await writeRun("20261201T100000Z-eyes", { status: "succeeded", stages: [stage("train", "succeeded")] });
    await writeRun("20261202T100000Z-eyes", { status: "succeeded", stages: [stage("load", "succeeded")] });
    await writeRun("20261203T100000Z-eyes", { status: "failed", stages: [stage("train", "failed")] });
    await writeRun("20261203T110000Z-other", { status: "running", pid: deadPid(), hostname: os.hostname(), stages: [stage("train", "running")] });
  });

  it("takes the newest run that succeeded and meets it, with a note on the run passed over", async () => {
    const found = await findRun(runsDir, "latest", cwd, hasModel);
    expect(found.run.id).toBe("20261201T100000Z-eyes");
    expect(found.note).toBe("latest = 20261203T110000Z-other died during train; using 20261201T100000Z-eyes, the newest run with a trained model");
    expect((await findRun(runsDir, "eyes", cwd, hasModel)).note).toBe("eyes = 20261203T100000Z-eyes failed at train; using 20261201T100000Z-eyes, the newest run with a trained model");
    // Without a requirement, latest is still the newest run.
    expect((await findRun(runsDir, "latest", cwd)).run.id).toBe("20261203T110000Z-other");
  });

  it("says why a named run does not do, and which would", async () => {
    expect(await failureOf(findRun(runsDir, "20261202", cwd, hasModel))).toEqual({
      reason: "usage",
      message: "run 20261202T100000Z-eyes has no trained model: no train stage finished; the newest run with a trained model is 20261201T100000Z-eyes, or pass --model <model folder>",
    });
    expect(await failureOf(findRun(runsDir, "latest~1", cwd, hasModel))).toMatchObject({ message: expect.stringMatching(/^run 20261203T100000Z-eyes failed at train and has no trained model: /) });
  });

  it("says which run it looked at when no run does", async () => {
    await rm(path.join(runsDir, "20261201T100000Z-eyes"), { recursive: true });
    expect(await failureOf(findRun(runsDir, "latest", cwd, hasModel))).toEqual({
      reason: "usage",
      message: "latest = 20261203T110000Z-other died during train; no run has a trained model; pass --model <model folder>",
    });
  });
});

describe("mu-pipe runs rm", () => {
  beforeEach(async () => {
    await writeRun("20261101T100000Z-eyes", { status: "succeeded", stages: [] });
    await writeRun("20261102T100000Z-eyes", { status: "failed", stages: [stage("train", "failed")] });
    await writeRun("20261103T100000Z-eyes", { status: "running", pid: deadPid(), hostname: os.hostname(), stages: [stage("train", "running")] });
    await writeRun("20261104T100000Z-eyes", { status: "running", pid: 42, hostname: "gpu-7", stages: [] });
  });

  it("removes failed and dead runs, after a dry run that removes nothing", async () => {
    const dry = await cli("runs", "rm", "--failed", "--dry-run");
    expect(dry.out).toBe("would remove 2 run(s):\n  20261103T100000Z-eyes  died during train\n  20261102T100000Z-eyes  failed at train\n");
    expect(await readdir(runsDir)).toHaveLength(4);
    const done = await cli("runs", "rm", "--failed");
    expect(done.out).toBe(
      "removed 2 run(s):\n  20261103T100000Z-eyes  died during train\n  20261102T100000Z-eyes  failed at train\n`mu-pipe gc` frees the stored artifacts only they used\n",
    );
    expect((await readdir(runsDir)).sort()).toEqual(["20261101T100000Z-eyes", "20261104T100000Z-eyes"]);
  });

  it("refuses a run that is still running, removing nothing", async () => {
    const result = await cli("runs", "rm", "20261104", "20261101");
    expect(result.code).toBe(2);
    expect(result.err).toBe("mu-pipe: cannot remove a run that is still running: 20261104T100000Z-eyes (pid 42 on host gpu-7); stop it first (mu-pipe cancel <run> for one on Slurm)\n");
    expect(await readdir(runsDir)).toHaveLength(4);
  });

  it("moves runs/latest off a removed run, and takes --older-than", async () => {
    const { symlink } = await import("node:fs/promises");
    await symlink("20261102T100000Z-eyes", path.join(runsDir, "latest"));
    const result = await cli("runs", "rm", "latest", "--older-than", "1d");
    expect(result.out).toContain("runs/latest now points at 20261104T100000Z-eyes\n");
    expect(await readlink(path.join(runsDir, "latest"))).toBe("20261104T100000Z-eyes");
    expect((await cli("runs", "rm", "--older-than", "100w")).out).toBe("no runs match; nothing removed\n");
  });

  it("needs runs or a filter", async () => {
    expect((await cli("runs", "rm")).err).toMatch(/^mu-pipe: runs rm needs runs to delete, --failed or --older-than\n/);
  });
});

describe("mu-pipe gc of what killed runs leave", () => {
  it("removes dead locks and scratch no run names or nobody wrote to for long; keeps live ones", async () => {
    const store = await openStore(path.join(runsDir, ".store"));
    const lock = (pid: number, hostname = os.hostname()): string => JSON.stringify({ pid, hostname, since: "", description: "x", processStart: null, token: "t" });
    await writeFile(path.join(store.root, "locks", "dead.lock"), lock(deadPid()));
    await writeFile(path.join(store.root, "locks", "live.lock"), lock(process.pid));
    await writeFile(path.join(store.root, "locks", "remote.lock"), lock(42, "gpu-7"));
    for (const key of ["live", "unused", "old", "named"]) {
      await mkdir(path.join(store.root, "scratch", key));
      await writeFile(path.join(store.root, "scratch", key, "checkpoint"), "1234");
    }
    const longAgo = new Date(Date.now() - 30 * 86_400_000);
    await utimes(path.join(store.root, "scratch", "old", "checkpoint"), longAgo, longAgo);
    await utimes(path.join(store.root, "scratch", "old"), longAgo, longAgo);
    await writeRun("20261101T100000Z-eyes", { status: "interrupted", stages: [stage("a", "interrupted", "old"), stage("b", "interrupted", "named"), stage("c", "interrupted", "live")] });
    // What a `runs rm` killed mid-removal leaves.
    await mkdir(path.join(runsDir, `.removing-20261001T100000Z-eyes-${deadPid()}-${HOST_TAG}-0badf00d`, "logs"), { recursive: true });

    const dry = await collectGarbage(runsDir, store, { dryRun: true });
    expect([dry.removedLocks, dry.removedScratch]).toEqual([["dead"], [{ fingerprintKey: "old", why: "old" }, { fingerprintKey: "unused", why: "unused" }]]);
    expect(await readdir(path.join(store.root, "scratch"))).toHaveLength(4);

    const result = await cli("gc");
    expect(result.out).toMatch(/^removed 0 artifact\(s\), 0 record\(s\), 1 temp folder\(s\), 1 dead lock\(s\), 2 scratch folder\(s\); [\d.]+ B freed\n$/);
    expect((await readdir(path.join(store.root, "locks"))).sort()).toEqual(["live.lock", "remote.lock"]);
    expect((await readdir(path.join(store.root, "scratch"))).sort()).toEqual(["live", "named"]);
    expect((await readdir(runsDir)).sort()).toEqual([".store", "20261101T100000Z-eyes"]);
  });

  it("refuses when a run.json cannot be read, since it may name artifacts", async () => {
    await mkdir(path.join(runsDir, "20261101T100000Z-broken"), { recursive: true });
    await writeFile(path.join(runsDir, "20261101T100000Z-broken", "run.json"), "{");
    const result = await cli("gc");
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^mu-pipe: cannot tell which artifacts this run uses: 20261101T100000Z-broken \(run\.json: .*\); fix or delete it \(mu-pipe runs rm <run>\), then run gc\n$/);
  });
});
