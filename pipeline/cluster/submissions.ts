/**
 * The store's record of cluster jobs in flight: `<store>/jobs/<plan key>.json` per job
 * submitted. A command that plans the same work again (rerun after the login node
 * dropped the session) finds the job here and attaches to it while it is still queued
 * or running, instead of submitting it twice. `gc` reads it to refuse while the store
 * has work in flight.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ClusterSubmission } from "../formats.js";
import { writeFileAtomic } from "../store/atomic-file.js";

export function submissionsDir(storeDir: string): string {
  return path.join(storeDir, "jobs");
}

function fileOf(storeDir: string, planKey: string): string {
  return path.join(submissionsDir(storeDir), `${planKey.replace(/[^A-Za-z0-9_-]/g, "_")}.json`);
}

export async function readSubmission(storeDir: string, planKey: string): Promise<ClusterSubmission | null> {
  return parse(await fs.readFile(fileOf(storeDir, planKey), "utf8").catch(() => null));
}

export async function writeSubmission(storeDir: string, submission: ClusterSubmission): Promise<void> {
  await fs.mkdir(submissionsDir(storeDir), { recursive: true });
  await writeFileAtomic(fileOf(storeDir, submission.planKey), `${JSON.stringify(submission, null, 2)}\n`);
}

/** Forgets a job once it has ended (its result, if any, is in the store). */
export async function removeSubmission(storeDir: string, planKey: string, jobId: string): Promise<void> {
  const current = await readSubmission(storeDir, planKey);
  if (current?.jobId === jobId) await fs.rm(fileOf(storeDir, planKey), { force: true });
}

export async function listSubmissions(storeDir: string): Promise<ClusterSubmission[]> {
  const dir = submissionsDir(storeDir);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const all = await Promise.all(names.filter((n) => n.endsWith(".json")).map(async (n) => parse(await fs.readFile(path.join(dir, n), "utf8").catch(() => null))));
  return all.filter((s): s is ClusterSubmission => s !== null);
}

function parse(text: string | null): ClusterSubmission | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<ClusterSubmission>;
    return value.version === 1 && typeof value.jobId === "string" && typeof value.planKey === "string" ? (value as ClusterSubmission) : null;
  } catch {
    return null;
  }
}
