/**
 * Ctrl-C against a real child process, with a training stand-in (`slow-train` in
 * test/toy-stages.mjs) whose epochs last seconds, as a fine-tune's do at 224x224: how
 * long the run takes to stop, what it prints at once, and the state it leaves (run.json,
 * locks, temp folders, the checkpoint a rerun resumes from).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../pipeline/formats.js";
import { EngineRig, waitFor } from "./engine-rig.js";

/** `train` params go in at `{params}`; `prep` runs first so the run has a finished stage to keep. */
const experiment = (params: string): string => `experiment: train
stages:
  prep:
    uses: emit
    params: { value: "a" }
  train:
    uses: slow-train
    params: ${params}
  after:
    uses: concat
    inputs: { a: prep.out, b: train.out }
`;

let rig: EngineRig;
beforeEach(async () => {
  rig = await EngineRig.create();
});
afterEach(async () => {
  await rig.cleanup();
});

const store = (...parts: string[]): string => path.join(rig.dir, "runs/.store", ...parts);

/** The epoch in slow-train's checkpoint (0 without one), and whether one is being written. */
async function checkpoint(): Promise<{ epoch: number; writing: boolean }> {
  for (const key of await fs.readdir(store("scratch")).catch(() => [] as string[])) {
    const dir = store("scratch", key);
    const text = await fs.readFile(path.join(dir, "checkpoint.json"), "utf8").catch(() => null);
    const writing = await fs.stat(path.join(dir, "checkpoint.json.tmp")).then(
      () => true,
      () => false,
    );
    return { epoch: text === null ? 0 : (JSON.parse(text) as { epoch: number }).epoch, writing };
  }
  return { epoch: 0, writing: false };
}

type Child = ReturnType<EngineRig["spawn"]>;

function exitOf(child: Child): Promise<{ code: number; at: number }> {
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, at: Date.now() })));
}

/** What every interrupted run must leave: run.json says so, no lock, no temp folder, the lines said. */
async function expectInterruptedState(child: Child): Promise<void> {
  const run = await rig.readJson<RunRecord>("runs/latest/run.json");
  expect(run.status).toBe("interrupted");
  expect(run.stages.map((s) => [s.id, s.status])).toEqual([
    ["prep", "succeeded"],
    ["train", "interrupted"],
    ["after", "skipped"],
  ]);
  expect(await fs.readdir(store("locks"))).toEqual([]);
  expect(await fs.readdir(store("tmp"))).toEqual([]);
  expect(child.output()).toContain("[train] interrupted\n");
  expect(child.output()).toMatch(/\[run\] interrupted after [\d.ms]+ -> runs\/\d{8}T\d{6}Z-train\n/);
  expect(child.output()).toContain("mu-pipe: interrupted during stage train; finished stages are cached, the next run resumes from there.\n");
}

describe("Ctrl-C during a long epoch", () => {
  it("stops within about one step, says so at once, keeps the checkpoint; status and the rerun say where it resumes", async () => {
    // 6 s epochs of 100 ms steps that hold the thread, like TensorFlow batches.
    await rig.write("train.yaml", experiment("{ epochs: 2, steps: 60, step_ms: 100, hold_thread: true }"));
    const child = rig.spawn("run", "train.yaml");
    const exited = exitOf(child);
    await waitFor(async () => (await checkpoint()).epoch === 1, 30_000, "epoch 1's checkpoint");
    await new Promise((resolve) => setTimeout(resolve, 500)); // into epoch 2
    const sent = Date.now();
    child.kill("SIGINT");
    await waitFor(() => child.output().includes("[run] stopping: waiting for train to stop (Ctrl-C again to stop at once)\n"), 10_000, "the stopping line");
    const said = Date.now();
    const { code, at } = await exited;

    expect(code).toBe(130);
    // Well under the 6 s epoch (a step is 100 ms; the margin is for a loaded machine).
    expect(said - sent).toBeLessThan(2_000);
    expect(at - sent).toBeLessThan(3_500);
    await expectInterruptedState(child);
    expect(await checkpoint()).toEqual({ epoch: 1, writing: false });

    const status = await rig.cli("status", "train.yaml");
    expect(status.out).toBe(
      [
        "prep   reuse     fingerprint matches a cached result",
        "train  will run  an earlier attempt was interrupted",
        "                 resumes after epoch 1 of 2",
        "after  will run  upstream train will run",
        "",
      ].join("\n"),
    );
    const rerun = await rig.runChild("run", "train.yaml");
    expect(rerun.code, rerun.out).toBe(0);
    expect(rerun.out).toContain("[train] running: an earlier attempt was interrupted; resumes after epoch 1 of 2\n");
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/logs/train.log"), "utf8")).toContain("resuming after epoch 1");
  });

  it("a second Ctrl-C stops at once a stage that does not stop, and still records the run and frees its lock", async () => {
    // A stage that never looks at its signal, at the start of an 8 s epoch.
    await rig.write("train.yaml", experiment("{ epochs: 2, steps: 2, step_ms: 4000, ignore_signal: true }"));
    const child = rig.spawn("run", "train.yaml");
    const exited = exitOf(child);
    await waitFor(async () => (await checkpoint()).epoch === 1, 60_000, "epoch 1's checkpoint");
    child.kill("SIGINT");
    await waitFor(() => child.output().includes("[run] stopping: waiting for train to stop"), 10_000, "the stopping line");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.exitCode).toBeNull(); // the first Ctrl-C waits for the stage
    const second = Date.now();
    child.kill("SIGINT");
    const { code, at } = await exited;

    expect(code).toBe(130);
    expect(at - second).toBeLessThan(3_000);
    expect(child.output()).toContain("[run] stopping now, without waiting for train to finish its step\n");
    await expectInterruptedState(child);
    expect(await checkpoint()).toEqual({ epoch: 1, writing: false });
    expect((await rig.cli("status", "train.yaml")).out).toContain("resumes after epoch 1 of 2");
  });

  it("two quick Ctrl-Cs while a checkpoint is being written let it finish: the rerun resumes after that epoch", async () => {
    // Writing a checkpoint takes 2 s here; the second Ctrl-C must not cut it.
    await rig.write("train.yaml", experiment("{ epochs: 3, steps: 5, step_ms: 100, checkpoint_ms: 2000 }"));
    const child = rig.spawn("run", "train.yaml");
    const exited = exitOf(child);
    await waitFor(async () => (await checkpoint()).writing, 30_000, "epoch 1's checkpoint to be written");
    child.kill("SIGINT");
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill("SIGINT");
    const { code } = await exited;

    expect(code).toBe(130);
    expect(child.output()).toContain("[run] stopping now, without waiting for train to finish its step\n");
    await expectInterruptedState(child);
    expect(await checkpoint()).toEqual({ epoch: 1, writing: false });
    expect((await rig.cli("status", "train.yaml")).out).toContain("resumes after epoch 1 of 3");
  });
});
