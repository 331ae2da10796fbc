/**
 * `mu-pipe run --executor slurm` against the real single-node cluster (scripts/slurm/up.sh),
 * with toy stages (test/toy-stages.mjs) through the compiled CLI. What actually ran is
 * read back from sacct: one job per stage, dependencies held, nothing cached submitted,
 * shared work once; cancelling, re-attaching and running out of memory are reported.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../pipeline/formats.js";
import { accountingStates, type AccountingRecord } from "../../pipeline/slurm/accounting.js";
import { slurmAvailable } from "../../pipeline/slurm/available.js";
import { cancelJobs } from "../../pipeline/slurm/cancel.js";
import { queueStates } from "../../pipeline/slurm/queue.js";
import { EngineRig, waitFor } from "../pipeline/engine-rig.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { SLURM } from "./cluster-rig.js";

const problem = await slurmAvailable();

const SETTINGS = `settings:
  runtime: { backend: cpu }
  executor: slurm
  slurm: { poll_seconds: 0.3, defaults: { cpus: 1, mem: 400M, time: "5" } }
`;

const BRANCHES = `experiment: NAME
${SETTINGS}stages:
  root: { uses: emit, params: { value: r } }
  left: { uses: whoami, inputs: { after: root.out }, params: { sleep_ms: 800, tag: left } }
  right: { uses: whoami, inputs: { after: root.out }, params: { sleep_ms: 800, tag: right } }
  join:
    uses: concat
    inputs: { a: left.out, b: right.out }
`;

const TRAIN = `experiment: NAME
${SETTINGS}stages:
  train: { uses: slow-train, params: { epochs: 3, steps: 6, step_ms: 400 } }
`;

let rig: EngineRig;
beforeEach(async () => {
  rig = await EngineRig.create();
});
afterEach(async () => {
  await rig.cleanup();
});

/** A name no other test (or earlier run of this file) gave its jobs, so sacct counts are this test's alone. */
function unique(name: string): string {
  return `${name}-${process.pid}-${Date.now().toString(36)}`;
}

async function record(run = "latest"): Promise<RunRecord> {
  return rig.readJson<RunRecord>(`runs/${run}/run.json`);
}

function jobOf(run: RunRecord, stage: string): string {
  const id = run.stages.find((s) => s.id === stage)?.job?.id;
  if (!id) throw new Error(`no Slurm job recorded for ${stage}`);
  return id;
}

/** Every job sacct has with this name (all states), final records only. */
async function jobsNamed(name: string): Promise<AccountingRecord[]> {
  const { stdout } = await promisify(execFile)("sacct", ["-X", "--noheader", "--parsable2", "--format=JobID,JobName", `--name=${name}`, "--starttime=now-1hour"]);
  const ids = stdout.split("\n").filter(Boolean).map((line) => line.split("|")[0] ?? "");
  const records = await accountingStates(ids);
  return [...records.values()];
}

async function runningJob(stage: string): Promise<string> {
  let id = "";
  await waitFor(
    async () => {
      const run = await record().catch(() => null);
      id = run?.stages.find((s) => s.id === stage)?.job?.id ?? "";
      if (!id) return false;
      return (await queueStates([id])).get(id)?.state === "RUNNING";
    },
    60_000,
    `${stage}'s job to run`,
  );
  return id;
}

async function checkpointWritten(): Promise<boolean> {
  const scratch = path.join(rig.dir, "runs/.store/scratch");
  for (const dir of await fs.readdir(scratch).catch(() => [])) if (await fs.stat(path.join(scratch, dir, "checkpoint.json")).catch(() => null)) return true;
  return false;
}

describe.skipIf(skipUnlessAvailable(SLURM, problem))("mu-pipe run --executor slurm", () => {
  it("submits each stage that has to run as one job with afterok dependencies, and nothing that is cached", async () => {
    const name = unique("branches");
    await rig.write("b.yaml", BRANCHES.replace("NAME", name));
    const result = await rig.runChild("run", "b.yaml");
    expect(result.code, result.out).toBe(0);
    const run = await record();
    expect(run.executor).toEqual({ kind: "slurm", detached: false });
    expect(run.stages.map((s) => [s.id, s.status])).toEqual([
      ["root", "succeeded"],
      ["left", "succeeded"],
      ["right", "succeeded"],
      ["join", "succeeded"],
    ]);
    const ids = Object.fromEntries(run.stages.map((s) => [s.id, jobOf(run, s.id)]));
    expect(new Set(Object.values(ids)).size).toBe(4);
    const accounted = await accountingStates(Object.values(ids));
    const of = (stage: string): AccountingRecord => accounted.get(ids[stage] ?? "") ?? expect.fail(`sacct has no job for ${stage}`);
    for (const stage of ["root", "left", "right", "join"]) expect(of(stage)).toMatchObject({ name: `mu-pipe:${name}:${stage}`, state: "COMPLETED" });
    // Dependencies held (sacct times are to the second).
    expect((of("left").start ?? "") >= (of("root").end ?? "~")).toBe(true);
    expect((of("join").start ?? "") >= (of("left").end ?? "~")).toBe(true);
    expect((of("join").start ?? "") >= (of("right").end ?? "~")).toBe(true);
    // The owner recorded what each job said: metrics and artifacts.
    const facts = JSON.parse(await fs.readFile(path.join(rig.dir, "runs/latest/artifacts/left/out"), "utf8")) as { pid: number };
    expect(facts.pid).not.toBe(run.pid);
    expect(result.out).toMatch(/\[left\] queued: Slurm job \d+ PENDING \(Dependency\)/);

    // Everything is cached now: the rerun submits nothing.
    const again = await rig.runChild("run", "b.yaml");
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain("queued");
    expect((await record()).stages.every((s) => s.status === "reused" && s.job === undefined)).toBe(true);
    expect(await jobsNamed(`mu-pipe:${name}:root`)).toHaveLength(1);
  });

  it("computes a sweep's shared upstream stage in one job", async () => {
    const name = unique("swept");
    await rig.write("s.yaml", `${BRANCHES.replace("NAME", name)}sweep:\n  stages.left.params.tag: [a, b, c]\n`);
    const result = await rig.runChild("run", "s.yaml", "--only", "root", "--only", "left");
    expect(result.code, result.out).toBe(0);
    const roots = await jobsNamed(`mu-pipe:${name}:root`);
    expect(roots).toHaveLength(1);
    expect(await jobsNamed(`mu-pipe:${name}:left`)).toHaveLength(3);
    const runs = (await fs.readdir(path.join(rig.dir, "runs"))).filter((n) => n.includes("["));
    const records = await Promise.all(runs.map((n) => record(n)));
    expect(records.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(new Set(records.map((r) => jobOf(r, "root")))).toEqual(new Set([roots[0]?.jobId]));
  });

  it("reports a fine-tune cancelled with scancel, and the rerun resumes it from its checkpoint", async () => {
    await rig.write("t.yaml", TRAIN.replace("NAME", unique("cancelled")));
    const child = rig.spawn("run", "t.yaml");
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const id = await runningJob("train");
    await waitFor(checkpointWritten, 60_000, "the first epoch's checkpoint");
    await cancelJobs([id]);
    expect(await exited).toBe(130);
    expect(child.output()).toContain("[train] interrupted");
    expect((await record()).stages[0]).toMatchObject({ status: "interrupted" });
    const [ended] = await accountingStates([id]).then((m) => [...m.values()]);
    expect(ended?.state).toBe("CANCELLED");

    const rerun = await rig.runChild("run", "t.yaml");
    expect(rerun.code, rerun.out).toBe(0);
    expect(rerun.out).toMatch(/\[train\] running: .*resumes after epoch \d of 3/);
  });

  it("re-attaches to its queued or running jobs when run again after the submitting process was killed", async () => {
    const name = unique("attach");
    await rig.write("t.yaml", TRAIN.replace("NAME", name));
    const child = rig.spawn("run", "t.yaml");
    const first = await runningJob("train");
    child.kill("SIGKILL");
    const again = await rig.runChild("run", "t.yaml");
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`[train] queued: Slurm job ${first} ATTACHED`);
    expect((await record()).stages[0]).toMatchObject({ status: "succeeded", job: { id: first } });
    expect((await jobsNamed(`mu-pipe:${name}:train`)).map((j) => j.jobId)).toEqual([first]);
  });

  it("reports a job that exceeds its memory as OUT_OF_MEMORY with its log, and runs nothing after it", async () => {
    const settings = SETTINGS.replace("mem: 400M", "mem: 300M");
    await rig.write("m.yaml", `experiment: ${unique("hog")}\n${settings}stages:\n  hog: { uses: hog, params: { mb: 700, hold_ms: 3000 } }\n  after: { uses: concat, inputs: { a: hog.out } }\n`);
    const result = await rig.runChild("run", "m.yaml");
    expect(result.code).toBe(1);
    const run = await record();
    expect(run.stages[0]).toMatchObject({ id: "hog", status: "failed" });
    expect(run.stages[0]?.error).toMatch(/^Slurm job \d+ ended OUT_OF_MEMORY/);
    expect(run.stages[1]).toMatchObject({ id: "after", status: "skipped", reason: "not run: the run stopped at hog" });
    expect(result.out).toMatch(/\[hog\] log: runs\/.*\/jobs\/hog\.out/);
  });

  it("submits nothing when the cached results already show a stage would fail (preflight), as a local run stops before it", async () => {
    const name = unique("preflight");
    await rig.write("p.yaml", `experiment: ${name}\n${SETTINGS}stages:\n  root: { uses: emit, params: { value: "" } }\n  copy: { uses: needs-text, inputs: { a: root.out } }\n`);
    expect((await rig.runChild("run", "p.yaml", "--only", "root")).code).toBe(0);
    const result = await rig.runChild("run", "p.yaml");
    expect(result.code, result.out).toBe(2);
    expect(result.out).toContain("its input is empty");
    expect(result.out).not.toContain("queued");
    expect((await record()).stages.map((s) => [s.id, s.status])).toEqual([
      ["root", "reused"],
      ["copy", "failed"],
    ]);
    expect(await jobsNamed(`mu-pipe:${name}:copy`)).toEqual([]);
  });

  it("--detach submits and returns; show asks Slurm, cancel cancels, gc refuses meanwhile", async () => {
    await rig.write("t.yaml", TRAIN.replace("NAME", unique("detached")));
    const submitted = await rig.runChild("run", "t.yaml", "--detach");
    expect(submitted.code, submitted.out).toBe(0);
    expect(submitted.out).toMatch(/submitted 1 job for run \S+:\n {2}train {8}Slurm job \d+\n/);
    const id = await runningJob("train");
    const status = await rig.runChild("status", "t.yaml");
    expect(status.out).toMatch(new RegExp(`on Slurm now .*\\n  train  Slurm job ${id} RUNNING  for `));
    const shown = await rig.runChild("show");
    expect(shown.out).toMatch(/^status +detached \(submitted with --detach; mu-pipe show asks Slurm/m);
    expect(shown.out).toMatch(new RegExp(`train +slow-train +pending · Slurm ${id} RUNNING`));
    const gc = await rig.runChild("gc");
    expect(gc.code).toBe(2);
    expect(gc.out).toContain(`Slurm jobs of this store are queued or running: ${id} (train of`);
    const cancelled = await rig.runChild("cancel");
    expect(cancelled.code, cancelled.out).toBe(0);
    expect(cancelled.out).toContain(`cancelled Slurm job ${id} (train)`);
    expect((await record()).status).toBe("interrupted");
  });

  it("--fail-fast: once a combination fails, the jobs not yet started are cancelled and their runs say why; running ones finish", async () => {
    const name = unique("fast");
    // Per combination: w (fails at once for tag x, else sleeps), then after, held by afterok.
    // b's w sleeps long enough for x's failure to be seen on a loaded machine (sacct can lag).
    const experiment = `experiment: ${name}
${SETTINGS}stages:
  w: { uses: whoami, params: { sleep_ms: 12000, tag: a, fail_tag: x } }
  after: { uses: whoami, inputs: { after: w.out }, params: { sleep_ms: 200 } }
sweep:
  stages.w.params.tag: [x, b]
`;
    await rig.write("f.yaml", experiment);
    const fast = await rig.runChild("run", "f.yaml", "--fail-fast");
    expect(fast.code, fast.out).toBe(1);
    const runs = (await fs.readdir(path.join(rig.dir, "runs"))).filter((n) => n.includes("["));
    const failedRun = runs.find((n) => n.endsWith("[tag=x]")) ?? "";
    const [failed, stopped] = await Promise.all([failedRun, runs.find((n) => n.endsWith("[tag=b]")) ?? ""].map((n) => record(n)));
    expect(failed?.stages.map((s) => [s.id, s.status])).toEqual([["w", "failed"], ["after", "skipped"]]);
    expect(failed?.stages[1]?.reason).toBe("not run: the run stopped at w");
    // b's w, if it had started (the node has 2 CPUs, other tests' jobs may hold one), ran to its end; what had not started never did.
    const fastReason = `not run: --fail-fast: ${failedRun} failed at w`;
    const [bw, bAfter] = stopped?.stages ?? [];
    expect(bw?.status === "succeeded" || (bw?.status === "skipped" && bw.reason === fastReason), JSON.stringify(bw)).toBe(true);
    expect(bAfter).toMatchObject({ id: "after", status: "skipped", reason: fastReason });
    expect(stopped?.status).toBe("failed");
    // Never started: sacct has them CANCELLED (asked by id: a job without a start is outside --starttime).
    const afters = [failed, stopped].map((run) => (run ? jobOf(run, "after") : ""));
    await waitFor(async () => [...(await accountingStates(afters)).values()].every((j) => j.state === "CANCELLED"), 30_000, "sacct to say CANCELLED for both after jobs");
    expect(fast.out).toContain(`[after] skipped: not run: --fail-fast: ${failedRun} failed at w`);

    // Without --fail-fast, b's after runs: the rerun computes it.
    const rerun = await rig.runChild("run", "f.yaml");
    expect(rerun.code, rerun.out).toBe(1);
    const latest = (await fs.readdir(path.join(rig.dir, "runs"))).filter((n) => n.endsWith("[tag=b]")).sort().at(-1) ?? "";
    expect((await record(latest)).stages.map((s) => s.status)).toEqual([bw?.status === "succeeded" ? "reused" : "succeeded", "succeeded"]);
  });

  it("--fail-fast and --detach together are refused: the one follows the jobs, the other leaves them", async () => {
    await rig.write("d.yaml", `${BRANCHES.replace("NAME", unique("both"))}sweep:\n  stages.left.params.tag: [a, b]\n`);
    const result = await rig.runChild("run", "d.yaml", "--fail-fast", "--detach");
    expect(result.code).toBe(2);
    expect(result.out).toContain("--fail-fast needs the command to follow the jobs, and --detach leaves them");
  });

  it("Ctrl-C cancels the run's jobs (exit 130)", async () => {
    await rig.write("t.yaml", TRAIN.replace("NAME", unique("ctrlc")));
    const child = rig.spawn("run", "t.yaml");
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const id = await runningJob("train");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    await waitFor(async () => (await accountingStates([id])).get(id)?.state === "CANCELLED", 30_000, "sacct to say CANCELLED");
    expect((await record()).stages[0]?.status).toBe("interrupted");
  });
});
