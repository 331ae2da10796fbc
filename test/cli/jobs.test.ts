/**
 * `--jobs N`: independent stages, and the runs of a sweep, run at the same time, each in
 * a worker process of its own, with the cores shared out; Ctrl-C stops them all and a
 * rerun resumes each. Toy stages (test/toy-stages.mjs) through the compiled CLI.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../pipeline/formats.js";
import { EngineRig, waitFor } from "../pipeline/engine-rig.js";

/** `root` feeds two independent branches of 1.5 s each, and `join` reads both. */
const BRANCHES = `experiment: branches
settings: { runtime: { backend: cpu } }
stages:
  root: { uses: emit, params: { value: r } }
  left: { uses: whoami, inputs: { after: root.out }, params: { sleep_ms: 1500, tag: left } }
  right: { uses: whoami, inputs: { after: root.out }, params: { sleep_ms: 1500, tag: right } }
  join:
    uses: concat
    inputs: { a: left.out, b: right.out }
`;

interface Facts {
  readonly pid: number;
  readonly start: number;
  readonly end: number;
  readonly threads: number;
}

let rig: EngineRig;
beforeEach(async () => {
  rig = await EngineRig.create();
});
afterEach(async () => {
  await rig.cleanup();
});

async function runRecords(): Promise<RunRecord[]> {
  const runs = path.join(rig.dir, "runs");
  const names = (await fs.readdir(runs)).filter((n) => !n.startsWith(".") && n !== "latest").sort();
  return Promise.all(names.map(async (n) => JSON.parse(await fs.readFile(path.join(runs, n, "run.json"), "utf8")) as RunRecord));
}

async function factsOf(stage: string, run = "latest"): Promise<Facts> {
  return JSON.parse(await fs.readFile(path.join(rig.dir, "runs", run, "artifacts", stage, "out"), "utf8")) as Facts;
}

describe("mu-pipe run --jobs", () => {
  it("runs independent stages at once, each in a process of its own, the cores shared between them", async () => {
    await rig.write("b.yaml", BRANCHES);
    const result = await rig.runChild("run", "b.yaml", "--jobs", "2");
    expect(result.code, result.out).toBe(0);
    const left = await factsOf("left");
    const right = await factsOf("right");
    // Both started before either ended: they overlapped.
    expect(left.start).toBeLessThan(right.end);
    expect(right.start).toBeLessThan(left.end);
    const owner = (await rig.readJson<RunRecord>("runs/latest/run.json")).pid;
    expect(new Set([left.pid, right.pid, owner]).size).toBe(3);
    expect(left.threads).toBe(Math.max(1, Math.floor(os.availableParallelism() / 2)));

    const record = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(record.status).toBe("succeeded");
    expect(record.stages.map((s) => [s.id, s.status])).toEqual([
      ["root", "succeeded"],
      ["left", "succeeded"],
      ["right", "succeeded"],
      ["join", "succeeded"],
    ]);
    // Metrics and artifacts are recorded by the owner from what the workers said.
    const metrics = await rig.readJson<{ stages: Record<string, Record<string, number>> }>("runs/latest/metrics.json");
    expect(metrics.stages.left?.pid).toBe(left.pid);
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/artifacts/join/out"), "utf8")).toContain(`"pid":${left.pid}`);
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/logs/left.log"), "utf8")).toMatch(/stage left \(whoami v1\) running/);
    // Progress of each running stage reaches the owner's output.
    expect(result.out).toMatch(/\[left\] running: /);
    expect(result.out).toMatch(/\[right\] running: /);

    // Same results with one job, all reused.
    const again = await rig.runChild("run", "b.yaml");
    expect(again.code).toBe(0);
    expect((await rig.readJson<RunRecord>("runs/latest/run.json")).stages.every((s) => s.status === "reused")).toBe(true);
  });

  it("with one job (the default) runs stages one after another in its own process", async () => {
    await rig.write("b.yaml", BRANCHES);
    const result = await rig.runChild("run", "b.yaml");
    expect(result.code, result.out).toBe(0);
    const left = await factsOf("left");
    const right = await factsOf("right");
    expect(left.end <= right.start || right.end <= left.start).toBe(true);
    expect(left.pid).toBe((await rig.readJson<RunRecord>("runs/latest/run.json")).pid);
  });

  it("runs the combinations of a sweep at once, computing their shared upstream stage once", async () => {
    await rig.write("s.yaml", `${BRANCHES.replace("experiment: branches", "experiment: swept")}sweep:\n  stages.left.params.tag: [a, b]\n`);
    const result = await rig.runChild("run", "s.yaml", "--jobs", "2", "--only", "root", "--only", "left");
    expect(result.code, result.out).toBe(0);
    expect((await rig.takeCalls()).sort()).toEqual(["left", "left", "root"]);
    const records = await runRecords();
    expect(records.map((r) => r.sweep?.label).sort()).toEqual(["tag=a", "tag=b"]);
    const [first, second] = records.map((r) => r.stages.find((s) => s.id === "left")?.finishedAt ?? "");
    const starts = records.map((r) => r.stages.find((s) => s.id === "left")?.startedAt ?? "");
    // The two `left` stages overlapped.
    expect(starts.every((s) => s < (first ?? "") && s < (second ?? ""))).toBe(true);
    expect(records.map((r) => r.stages.find((s) => s.id === "root")?.status).sort()).toEqual(["reused", "succeeded"]);
    // Lines of runs printed at once name their run.
    expect(result.out).toMatch(/^\[tag=a\] \[left\] done in/m);
    expect(result.out).toMatch(/^\[tag=b\] \[left\] done in/m);
  });

  it("Ctrl-C stops every running stage (exit 130) and a rerun resumes each", async () => {
    // Different steps: two fingerprints, so both run (the same one would run once).
    const train = (name: string, steps: number): string => `  ${name}: { uses: slow-train, params: { epochs: 3, steps: ${steps}, step_ms: 150 } }\n`;
    await rig.write("t.yaml", `experiment: two\nstages:\n${train("one", 5)}${train("two", 6)}`);
    const child = rig.spawn("run", "t.yaml", "--jobs", "2");
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const store = path.join(rig.dir, "runs/.store");
    const checkpoints = async (): Promise<number> => {
      const files = await fs.readdir(path.join(store, "scratch")).catch(() => []);
      let count = 0;
      for (const dir of files) if (await fs.stat(path.join(store, "scratch", dir, "checkpoint.json")).catch(() => null)) count += 1;
      return count;
    };
    await waitFor(async () => (await checkpoints()) === 2, 30_000, "both stages' first checkpoint");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    const record = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(record.status).toBe("interrupted");
    expect(record.stages.map((s) => s.status)).toEqual(["interrupted", "interrupted"]);
    expect(child.output()).toContain("[run] stopping: waiting for one to stop");
    expect(child.output()).toContain("[run] stopping: waiting for two to stop");
    // No worker is left behind holding a lock.
    await waitFor(async () => (await fs.readdir(path.join(store, "locks")).catch(() => [])).length === 0, 5_000, "locks released");

    const status = await rig.cli("status", "t.yaml");
    expect(status.out.match(/resumes after epoch \d of 3/g)?.length).toBe(2);
    const rerun = await rig.runChild("run", "t.yaml", "--jobs", "2");
    expect(rerun.code, rerun.out).toBe(0);
    expect(rerun.out.match(/resumes after epoch \d of 3/g)?.length).toBe(2);
  });

  it("refuses a --jobs that is not a whole number of at least 1", async () => {
    await rig.write("b.yaml", BRANCHES);
    const result = await rig.cli("run", "b.yaml", "--jobs", "0");
    expect(result.code).toBe(2);
    expect(result.err).toContain("--jobs takes a whole number of at least 1, not 0");
  });
});
