/** Engine behaviour across processes: kill -9, Ctrl-C and two runs at once on one store. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../pipeline/formats.js";
import { EngineRig, waitFor } from "./engine-rig.js";

const SLOW = `experiment: slow
stages:
  fast:
    uses: emit
    params: { value: "a" }
  slow:
    uses: emit
    params: { value: "b", sleep_ms: 1500 }
  after:
    uses: concat
    inputs: { a: fast.out, b: slow.out }
`;

let rig: EngineRig;
beforeEach(async () => {
  rig = await EngineRig.create();
  await rig.write("slow.yaml", SLOW);
});
afterEach(async () => {
  await rig.cleanup();
});

const callsFile = (): string => path.join(rig.dir, "calls.txt");
const calls = async (): Promise<string[]> => (await fs.readFile(callsFile(), "utf8").catch(() => "")).split("\n").filter(Boolean);
const partialWritten = async (): Promise<boolean> => {
  const tmp = path.join(rig.dir, "runs/.store/tmp");
  for (const name of await fs.readdir(tmp).catch(() => [] as string[])) {
    if (await fs.stat(path.join(tmp, name, "partial.txt")).catch(() => null)) return true;
  }
  return false;
};

describe("across processes", () => {
  it("after kill -9 mid-stage, the next run completes and nothing half-written is reused", async () => {
    const child = rig.spawn("run", "slow.yaml");
    await waitFor(partialWritten, 20_000, "the slow stage to start writing");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    expect(await calls()).toEqual(["fast", "slow"]);
    await rig.takeCalls();

    const result = await rig.runChild("run", "slow.yaml");
    expect(result.code, result.out).toBe(0);
    expect(await rig.takeCalls()).toEqual(["slow", "after"]); // fast was finished and is reused
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/artifacts/after/out"), "utf8")).toBe("ab");
    expect(await fs.readdir(path.join(rig.dir, "runs/latest/artifacts/slow"))).toEqual([".mu-artifact.json", "out", "partial.txt"]);
    const verify = await rig.runChild("verify");
    expect(verify.code, verify.out).toBe(0);
  });

  it("a run killed -9 reads as died; gc frees its dead lock, and its scratch once the run is removed", async () => {
    const child = rig.spawn("run", "slow.yaml");
    await waitFor(partialWritten, 20_000, "the slow stage to start writing");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    const id = path.basename(await fs.realpath(path.join(rig.dir, "runs/latest")));
    expect(await fs.readdir(path.join(rig.dir, "runs/.store/locks"))).toHaveLength(1);

    const runs = await rig.cli("runs");
    expect(runs.out).toMatch(new RegExp(`^${id}\\s+slow\\s+died\\s`, "m"));
    const show = await rig.cli("show");
    expect(show.out).toContain(`status      died (pid ${child.pid} is gone)\n`);
    expect(show.out).toMatch(/^slow\s+emit\s+died\s/m);
    // run.json itself is left as the run wrote it.
    expect((await rig.readJson<RunRecord>("runs/latest/run.json")).status).toBe("running");

    const dry = await rig.cli("gc", "--dry-run");
    expect(dry.out).toMatch(/^would remove 0 artifact\(s\), 0 record\(s\), \d temp folder\(s\), 1 dead lock\(s\), 0 scratch folder\(s\); [\d.]+ (B|KiB) would be freed\n$/);
    expect(await fs.readdir(path.join(rig.dir, "runs/.store/locks"))).toHaveLength(1);
    expect((await rig.cli("gc")).out).toMatch(/^removed 0 artifact\(s\), 0 record\(s\), \d temp folder\(s\), 1 dead lock\(s\), 0 scratch folder\(s\); /);
    expect(await fs.readdir(path.join(rig.dir, "runs/.store/locks"))).toEqual([]);
    expect(await fs.readdir(path.join(rig.dir, "runs/.store/scratch"))).toHaveLength(1); // the died run may still resume from it

    const removal = await rig.cli("runs", "rm", "--failed");
    expect(removal.out).toBe(`removed 1 run(s):\n  ${id}  died during slow\nruns/latest removed: no run left\n\`mu-pipe gc\` frees the stored artifacts only they used\n`);
    expect((await rig.cli("gc")).out).toMatch(/^removed 1 artifact\(s\), 1 record\(s\), 0 temp folder\(s\), 0 dead lock\(s\), 1 scratch folder\(s\); /);
    expect(await fs.readdir(path.join(rig.dir, "runs/.store/scratch"))).toEqual([]);
  });

  it("Ctrl-C stops the running stage, marks the run interrupted, and the next run resumes", async () => {
    const child = rig.spawn("run", "slow.yaml");
    await waitFor(partialWritten, 20_000, "the slow stage to start writing");
    child.kill("SIGINT");
    const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
    expect(code).toBe(130);
    expect(child.output()).toContain("interrupted during stage slow");
    const run = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(run.status).toBe("interrupted");
    expect(run.stages.map((s) => s.status)).toEqual(["succeeded", "interrupted", "skipped"]);
    expect(await fs.readdir(path.join(rig.dir, "runs/.store/tmp"))).toEqual([]);
    await rig.takeCalls();

    expect((await rig.runChild("run", "slow.yaml")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual(["slow", "after"]);
  });

  it("two runs at once compute a stage once: the second waits, then reuses", async () => {
    const first = rig.spawn("run", "slow.yaml");
    await waitFor(partialWritten, 20_000, "the first run to start the slow stage");
    const second = rig.spawn("run", "slow.yaml");
    const [a, b] = await Promise.all(
      [first, second].map((child) => new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)))),
    );
    expect([a, b], first.output() + second.output()).toEqual([0, 0]);
    const ran = await calls();
    expect(ran.filter((id) => id === "slow")).toEqual(["slow"]);
    expect(ran.filter((id) => id === "after")).toEqual(["after"]);
    expect(second.output()).toMatch(/\[slow\] waiting/);
  });

  it("gc refuses while a run is in progress", async () => {
    const child = rig.spawn("run", "slow.yaml");
    await waitFor(partialWritten, 20_000, "the slow stage to start writing");
    const gc = await rig.cli("gc");
    expect(gc.code).toBe(2);
    expect(gc.err).toMatch(/^mu-pipe: a run is in progress: \d{8}T\d{6}Z-slow \(pid \d+\); run gc when it has finished\n$/);
    expect(await new Promise((resolve) => child.on("close", resolve))).toBe(0);
    expect((await rig.cli("gc")).code).toBe(0);
  });
});
