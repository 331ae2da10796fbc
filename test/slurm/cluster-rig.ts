/**
 * Shared by the tests that run jobs on the real cluster (scripts/slurm/up.sh): a temp
 * folder per test file, submitting a job with its script and log in it, and waiting on
 * squeue/sacct the way an executor would.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { accountingStates, type AccountingRecord } from "../../pipeline/slurm/accounting.js";
import { queueStates, type QueueState } from "../../pipeline/slurm/queue.js";
import { isFinal } from "../../pipeline/slurm/states.js";
import { submitJob, type SubmitOptions, type SubmittedJob } from "../../pipeline/slurm/submit.js";

export const SLURM = "Slurm (scripts/slurm/up.sh)";

/** A temp folder for the file's jobs, removed afterwards. */
export function useJobFolder(prefix: string): () => string {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), `mu-slurm-${prefix}-`));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** Submits `script` as job `name` with its batch file and log (`NAME.log`) in `dir`. */
export function submit(dir: string, name: string, script: string, options: Partial<SubmitOptions> = {}): Promise<SubmittedJob & { log: string }> {
  const log = path.join(dir, `${name}.log`);
  return submitJob({ name, script, scriptFile: path.join(dir, `${name}.sbatch`), chdir: dir, output: log, mem: "50M", time: "2", ...options }).then((job) => ({ ...job, log }));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 250 ms until it returns a value, or fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** The job's sacct record once its state is final (succeeded or failed) and no longer provisional. */
export function waitForEnd(jobId: string, timeoutMs = 30_000): Promise<AccountingRecord> {
  return waitFor(`job ${jobId} to end in sacct`, async () => {
    const record = (await accountingStates([jobId])).get(jobId);
    return record && !record.provisional && isFinal(record.phase) ? record : undefined;
  }, timeoutMs);
}

/** The job's squeue entry once squeue shows it RUNNING. */
export function waitForRunning(jobId: string, timeoutMs = 30_000): Promise<QueueState> {
  return waitFor(`job ${jobId} to run`, async () => {
    const state = (await queueStates([jobId])).get(jobId);
    return state?.state === "RUNNING" ? state : undefined;
  }, timeoutMs);
}
