/**
 * A job that outlives its --time ends as TIMEOUT. Slurm counts time limits in whole
 * minutes and slurmctld checks them every 30 s, so `--time=1` alone takes 60-90 s; the
 * test instead moves the running job's end to 2 s from now (`scontrol update EndTime=now+2`), which
 * is the same time-limit enforcement, and ends within ~30 s. Its own file, so it runs
 * beside the other cluster tests.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { slurmAvailable } from "../../pipeline/slurm/available.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { SLURM, submit, useJobFolder, waitForEnd, waitForRunning } from "./cluster-rig.js";

const problem = await slurmAvailable();

describe.skipIf(skipUnlessAvailable(SLURM, problem))("Slurm time limit", () => {
  const dir = useJobFolder("timeout");

  it("ends a job past its time limit as TIMEOUT", { timeout: 90_000 }, async () => {
    const job = await submit(dir(), "overtime", "sleep 300", { time: "1" });
    await waitForRunning(job.jobId);
    // now+2 (seconds), not now: a job that started within this second has StartTime == now,
    // and Slurm refuses an end that is not after the start ("Invalid time specified").
    await promisify(execFile)("scontrol", ["update", `JobId=${job.jobId}`, "EndTime=now+2"]);
    const record = await waitForEnd(job.jobId, 75_000);
    expect(record).toMatchObject({ state: "TIMEOUT", phase: { phase: "failed", state: "TIMEOUT" } });
    expect(record.elapsedSeconds).toBeLessThan(60);
  });
});
