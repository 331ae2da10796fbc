/**
 * The wrappers' reading of Slurm's output and their error text, on output recorded from
 * the test cluster (scripts/slurm/up.sh, Slurm 22.05.8). What the commands really print
 * is checked against the live cluster in cluster.test.ts; this covers the cases that
 * cluster cannot be made to show on demand (a race, an older Slurm's OOM records).
 */
import { describe, expect, it } from "vitest";
import { accountingStates } from "../../pipeline/slurm/accounting.js";
import { queueStates } from "../../pipeline/slurm/queue.js";
import type { SlurmCommandResult, SlurmRunner } from "../../pipeline/slurm/runner.js";
import { classifyState } from "../../pipeline/slurm/states.js";
import { batchScript } from "../../pipeline/slurm/submit.js";

/** Answers every command with `result`, recording the calls. */
function replay(result: Partial<SlurmCommandResult>): SlurmRunner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: (command, args) => {
      calls.push([command, ...args]);
      return Promise.resolve({ found: true, exitCode: 0, stdout: "", stderr: "", ...result });
    },
  };
}

describe("classifyState", () => {
  it.each([
    ["PENDING", { phase: "pending", state: "PENDING" }],
    ["COMPLETING", { phase: "running", state: "COMPLETING" }],
    ["COMPLETED", { phase: "succeeded" }],
    ["CANCELLED by 0", { phase: "failed", state: "CANCELLED" }],
    ["OUT_OF_ME+", { phase: "unknown", state: "OUT_OF_ME" }],
    ["NODE_FAIL", { phase: "failed", state: "NODE_FAIL" }],
    ["SPECIAL_EXIT", { phase: "unknown", state: "SPECIAL_EXIT" }],
  ])("%s", (raw, phase) => expect(classifyState(raw)).toEqual(phase));
});

describe("accountingStates", () => {
  it("takes the job line, the largest step MaxRSS, and marks slurmdbd's placeholder record provisional", async () => {
    const runner = replay({
      stdout: [
        "9|cancelme|CANCELLED by 0|0:0|00:00:06||vm|2026-12-03T06:21:03|2026-12-03T06:21:09|debug",
        "9.batch|batch|CANCELLED|0:15|00:00:06|216K|vm|2026-12-03T06:21:03|2026-12-03T06:21:09|",
        "27|allocation|COMPLETED|0:0|00:00:00||vm|2026-12-03T06:28:34|2026-12-03T06:28:34|",
        "27.batch|batch|COMPLETED|0:0|00:00:00|0|vm|2026-12-03T06:28:34|2026-12-03T06:28:34|",
        "6|dep|CANCELLED|0:0|00:00:00||None assigned|2026-12-03T06:21:03|2026-12-03T06:21:03|debug",
        "",
      ].join("\n"),
    });
    const records = await accountingStates(["9", "27", "6", "404"], runner);
    expect(runner.calls).toEqual([["sacct", "--noheader", "--parsable2", "--format=JobID,JobName,State,ExitCode,Elapsed,MaxRSS,NodeList,Start,End,Partition", "--jobs=9,27,6,404"]]);
    expect([...records.keys()]).toEqual(["9", "27", "6"]);
    expect(records.get("9")).toMatchObject({ state: "CANCELLED", exit: { exitCode: 0, signal: 0 }, elapsedSeconds: 6, maxRssBytes: 216 * 1024, provisional: false });
    expect(records.get("27")).toMatchObject({ name: "allocation", provisional: true });
    expect(records.get("6")).toMatchObject({ nodeList: null, maxRssBytes: null });
  });

  it("reports OUT_OF_MEMORY when only a step says so (Slurm before 21.08 left the job FAILED)", async () => {
    const runner = replay({ stdout: "4|hog|FAILED|0:125|00:00:01||vm|2026-12-03T06:21:01|2026-12-03T06:21:02|debug\n4.batch|batch|OUT_OF_MEMORY|0:125|00:00:01|99M|vm|2026-12-03T06:21:01|2026-12-03T06:21:02|\n" });
    expect((await accountingStates(["4"], runner)).get("4")).toMatchObject({ state: "OUT_OF_MEMORY", phase: { phase: "failed", state: "OUT_OF_MEMORY" } });
  });
});

describe("errors name the command and what Slurm said", () => {
  it("squeue failing", async () => {
    const runner = replay({ exitCode: 1, stderr: "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n" });
    await expect(queueStates(["5"], runner)).rejects.toThrow(
      "squeue --noheader --states=all '--format=%i|%T|%r|%N' --jobs=5 exited with 1:\n  | slurm_load_jobs error: Unable to contact slurm controller (connect failure)",
    );
  });

  it("squeue knowing none of the ids is an empty answer, not an error", async () => {
    const runner = replay({ exitCode: 1, stderr: "slurm_load_jobs error: Invalid job id specified\n" });
    expect((await queueStates(["404"], runner)).size).toBe(0);
  });

  it("a program not on PATH", async () => {
    await expect(accountingStates(["1"], replay({ found: false, exitCode: null }))).rejects.toThrow(
      "sacct is not on PATH: Slurm's client commands are not installed here (for a local test cluster: scripts/slurm/up.sh)",
    );
  });
});

describe("batchScript", () => {
  const base = { name: "train", script: "mu-pipe run-stage train\n", scriptFile: "/runs/r1/train.sbatch", chdir: "/repo", output: "/runs/r1/train.log" };

  it("writes the options as #SBATCH lines and the environment as exports", () => {
    expect(batchScript({ ...base, cpus: 2, mem: "4G", time: "2:00:00", gres: "gpu:1", env: { MU_RUN: "it's r1" } })).toBe(
      [
        "#!/bin/bash",
        '#SBATCH --job-name="train"',
        '#SBATCH --chdir="/repo"',
        '#SBATCH --output="/runs/r1/train.log"',
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=4G",
        "#SBATCH --time=2:00:00",
        '#SBATCH --gres="gpu:1"',
        "",
        "export MU_RUN='it'\\''s r1'",
        "",
        "mu-pipe run-stage train",
        "",
      ].join("\n"),
    );
  });

  it("refuses a value that would not survive, showing it", () => {
    expect(() => batchScript({ ...base, mem: "4 GB" })).toThrow('job option mem: expected a size such as 512M or 4G, got "4 GB"');
    expect(() => batchScript({ ...base, name: 'say "hi"' })).toThrow('job option name: expected a non-empty value without newlines or double quotes, got "say \\"hi\\""');
  });
});
