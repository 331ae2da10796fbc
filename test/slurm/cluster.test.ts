/**
 * The Slurm wrappers against the real single-node cluster that scripts/slurm/up.sh starts
 * (.ci/run does; locally run it once as root). No fake sbatch: each test submits real jobs
 * and reads what squeue and sacct report, states that the cluster executor relies on.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { accountingStates } from "../../pipeline/slurm/accounting.js";
import { slurmAvailable } from "../../pipeline/slurm/available.js";
import { cancelJobs } from "../../pipeline/slurm/cancel.js";
import { SlurmError } from "../../pipeline/slurm/errors.js";
import { queueStates } from "../../pipeline/slurm/queue.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { SLURM, submit, useJobFolder, waitFor, waitForEnd, waitForRunning } from "./cluster-rig.js";

const problem = await slurmAvailable();

/** Whether the cluster confines jobs with task/cgroup (scripts/slurm/up.sh does when cgroup v1's memory controller is mounted). */
async function usesCgroups(): Promise<boolean> {
  const { stdout } = await promisify(execFile)("scontrol", ["show", "config"]);
  return /^TaskPlugin\s*=.*task\/cgroup/m.test(stdout);
}

describe.skipIf(skipUnlessAvailable(SLURM, problem))("Slurm wrappers on the real cluster", () => {
  const dir = useJobFolder("cluster");

  it("submits a batch script that runs in --chdir, and sacct shows it COMPLETED with exit 0", async () => {
    const job = await submit(dir(), "hello", 'pwd\necho "greeting=$GREETING"', { env: { GREETING: "it's me" }, cpus: 1 });
    expect(job.jobId).toMatch(/^\d+$/);
    expect(await readFile(job.scriptFile, "utf8")).toContain(`#SBATCH --chdir="${dir()}"`);
    const record = await waitForEnd(job.jobId);
    expect(record).toMatchObject({ jobId: job.jobId, name: "hello", state: "COMPLETED", phase: { phase: "succeeded" }, exit: { exitCode: 0, signal: 0 } });
    expect(record.nodeList).not.toBeNull();
    expect(await readFile(job.log, "utf8")).toBe(`${dir()}\ngreeting=it's me\n`);
  });

  it("reports a script that exits 3 as FAILED with exit code 3", async () => {
    const job = await submit(dir(), "exit3", "exit 3");
    const record = await waitForEnd(job.jobId);
    expect(record).toMatchObject({ state: "FAILED", phase: { phase: "failed", state: "FAILED" }, exit: { exitCode: 3, signal: 0 } });
  });

  it("starts an afterok dependent only after its dependency completed", async () => {
    const first = await submit(dir(), "first", "sleep 2\ndate +%s.%N > first.end");
    const second = await submit(dir(), "second", "date +%s.%N > second.start", { dependencies: [first.jobId] });
    await waitForRunning(first.jobId);
    expect((await queueStates([second.jobId])).get(second.jobId)).toMatchObject({ state: "PENDING", reason: "Dependency" });
    const records = await Promise.all([waitForEnd(first.jobId), waitForEnd(second.jobId)]);
    expect(records.map((r) => r.state)).toEqual(["COMPLETED", "COMPLETED"]);
    const firstEnd = Number(await readFile(path.join(dir(), "first.end"), "utf8"));
    const secondStart = Number(await readFile(path.join(dir(), "second.start"), "utf8"));
    expect(secondStart).toBeGreaterThan(firstEnd);
    // Slurm starts the dependent promptly on this cluster (tests and short stages depend on it).
    expect(secondStart - firstEnd).toBeLessThan(5);
  });

  it("cancels the dependent of a failed job (--kill-on-invalid-dep): CANCELLED, never ran, no node", async () => {
    const first = await submit(dir(), "fails", "sleep 1\nexit 1");
    const second = await submit(dir(), "never", "echo ran", { dependencies: [first.jobId] });
    const third = await submit(dir(), "never-either", "echo ran", { dependencies: [second.jobId] });
    const [a, b, c] = await Promise.all([waitForEnd(first.jobId), waitForEnd(second.jobId), waitForEnd(third.jobId)]);
    expect(a?.state).toBe("FAILED");
    for (const record of [b, c]) {
      expect(record).toMatchObject({ state: "CANCELLED", phase: { phase: "failed", state: "CANCELLED" }, exit: { exitCode: 0, signal: 0 }, nodeList: null });
    }
    expect(existsSync(second.log)).toBe(false);
    expect(existsSync(third.log)).toBe(false);
  });

  it("runs a job whose afterok names a job slurmctld does not know (purged after MinJobAge, or never existed)", async () => {
    // So an executor must not pass the id of an upstream job that may have left squeue: ask sacct first.
    const job = await submit(dir(), "orphan", "echo ran", { dependencies: ["999999"] });
    expect(await waitForEnd(job.jobId)).toMatchObject({ state: "COMPLETED" });
    expect(await readFile(job.log, "utf8")).toBe("ran\n");
  });

  it("cancels a running job with scancel: CANCELLED (sacct prints `CANCELLED by 0`), and cancelling it again is no error", async () => {
    const job = await submit(dir(), "long", "sleep 120");
    await waitForRunning(job.jobId);
    await cancelJobs([job.jobId]);
    const record = await waitForEnd(job.jobId);
    expect(record).toMatchObject({ state: "CANCELLED", phase: { phase: "failed", state: "CANCELLED" } });
    await cancelJobs([job.jobId]);
    await cancelJobs(["999999"]);
  });

  it("ends a job that allocates 1 GB under --mem=100M as OUT_OF_MEMORY (cgroups) or FAILED by SIGKILL (RSS polling)", async () => {
    const job = await submit(dir(), "hog", `python3 -c 'import time; x = bytearray(1024 ** 3); time.sleep(3); print("allocated")'`, { mem: "100M" });
    const record = await waitForEnd(job.jobId);
    const log = await readFile(job.log, "utf8");
    expect(log).not.toMatch(/^allocated$/m);
    if (await usesCgroups()) {
      // The kernel's cgroup OOM killer; slurmstepd reports it and sacct marks the job.
      expect(record).toMatchObject({ state: "OUT_OF_MEMORY", phase: { phase: "failed", state: "OUT_OF_MEMORY" } });
      expect(log).toContain("oom-kill event");
    } else {
      // jobacct_gather/linux OverMemoryKill: slurmstepd kills the step; sacct has no OOM state for it.
      expect(record).toMatchObject({ state: "FAILED", exit: { exitCode: 0, signal: 9 } });
      expect(log).toContain("Exceeded job memory limit");
    }
  });

  it("shows queued and running jobs in squeue, finished ones for MinJobAge, and leaves unknown ids out", async () => {
    const job = await submit(dir(), "queued", "sleep 1");
    const running = await waitForRunning(job.jobId);
    expect(running.reason).toBe("None");
    expect(running.nodeList).not.toBe("");
    await waitForEnd(job.jobId);
    const after = await waitFor("squeue to show the job finished", async () => {
      const state = (await queueStates([job.jobId, "999999"])).get(job.jobId);
      return state?.state === "COMPLETED" ? state : undefined;
    });
    expect(after.state).toBe("COMPLETED");
    expect((await queueStates(["999999"])).size).toBe(0);
    expect((await accountingStates(["999999"])).size).toBe(0);
  });

  it("throws a SlurmError naming the sbatch command and Slurm's own words for a bad partition", async () => {
    const failure = await submit(dir(), "nowhere", "true", { partition: "no-such-partition" }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SlurmError);
    const message = (failure as SlurmError).message;
    expect(message).toMatch(/^sbatch --parsable \S+nowhere\.sbatch exited with 1:\n {2}\| sbatch: error: .*invalid partition/);
  });
});
