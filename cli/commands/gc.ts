/** `mu-pipe gc`: frees what no run uses any more; the rule is pipeline/gc-policy.ts. */
import path from "node:path";

import { collectGarbage, type GcReport } from "../../pipeline/gc-policy.js";
import { openStore } from "../../pipeline/store/fs-store.js";
import { parseAge, parseCommandArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { formatBytes } from "../output/format.js";
import { MuPipeError } from "../../pipeline/failure.js";

const usage = `usage: mu-pipe gc [--dry-run] [--scratch-older-than 7d] [--runs-dir runs] [--store <runs-dir>/.store]

Removes stored artifacts that no run folder links to (delete runs with \`mu-pipe runs rm\`
to let theirs go), records of removed artifacts, temp folders and lock files left by
killed runs, and scratch folders (checkpoints of interrupted stages) that no run names
or that nobody wrote to for --scratch-older-than (default 7d). Nothing a live process
uses is touched; gc refuses while a run is in progress on this host.

  --dry-run                  say what would be removed, remove nothing
  --scratch-older-than <age> e.g. 12h, 7d, 2w (default 7d)
  --runs-dir <dir>           where runs live (default: runs)
  --store <dir>              the artifact store (default: <runs-dir>/.store)`;

const options = {
  "dry-run": { type: "boolean" },
  "scratch-older-than": { type: "string", default: "7d" },
  "runs-dir": { type: "string", default: "runs" },
  store: { type: "string" },
} as const;

/** Runs gc and prints its one-line summary; shared with `runs rm --gc`. */
export async function runGc(io: CommandIO, settings: { runsDir: string; store?: string; dryRun: boolean; scratchMaxAgeMs?: number }): Promise<GcReport> {
  const storeDir = path.resolve(io.cwd, settings.store ?? path.join(settings.runsDir, ".store"));
  await refuseWhileJobsInFlight(storeDir, settings.dryRun);
  const store = await openStore(storeDir);
  const report = await collectGarbage(path.resolve(io.cwd, settings.runsDir), store, { dryRun: settings.dryRun, scratchMaxAgeMs: settings.scratchMaxAgeMs });
  io.out(gcSummary(report, settings.dryRun));
  return report;
}

export function gcSummary(report: GcReport, dryRun: boolean): string {
  const counts = [
    `${report.removedArtifacts.length} artifact(s)`,
    `${report.removedRecords.length} record(s)`,
    `${report.removedTemp.length} temp folder(s)`,
    `${report.removedLocks.length} dead lock(s)`,
    `${report.removedScratch.length} scratch folder(s)`,
  ].join(", ");
  return `${dryRun ? "would remove" : "removed"} ${counts}; ${formatBytes(report.freedBytes)} ${dryRun ? "would be " : ""}freed`;
}

export const gcCommand: Command = {
  name: "gc",
  summary: "remove unreferenced store entries",
  usage,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, options, usage);
    const scratchMaxAgeMs = parseAge(values["scratch-older-than"], "--scratch-older-than", usage);
    await runGc(io, { runsDir: values["runs-dir"], store: values.store, dryRun: values["dry-run"] ?? false, scratchMaxAgeMs });
    return 0;
  },
};

/**
 * Jobs of this store queued or running on Slurm (possibly on other hosts) may be about to
 * write or link artifacts: gc waits for them. Records of jobs that have ended are dropped.
 */
async function refuseWhileJobsInFlight(storeDir: string, dryRun: boolean): Promise<void> {
  const { listSubmissions, removeSubmission } = await import("../../pipeline/cluster/submissions.js");
  const submissions = await listSubmissions(storeDir);
  if (submissions.length === 0) return;
  let statuses;
  try {
    const { jobStatuses } = await import("../../pipeline/cluster/job-status.js");
    statuses = await jobStatuses(submissions.map((s) => s.jobId));
  } catch (error) {
    throw new MuPipeError({
      reason: "usage",
      message: `${submissions.length} Slurm job(s) of this store are recorded in ${path.join(storeDir, "jobs")} and Slurm cannot be asked about them (${error instanceof Error ? error.message : String(error)}); run gc where Slurm answers, or delete those records if the cluster is gone`,
    });
  }
  const live = submissions.filter((s) => statuses.get(s.jobId)?.final !== true && statuses.has(s.jobId));
  if (live.length > 0 && !dryRun) {
    const listed = live.map((s) => `${s.jobId} (${s.stageId} of ${s.runId})`).join(", ");
    throw new MuPipeError({ reason: "usage", message: `Slurm jobs of this store are queued or running: ${listed}; run gc when they have ended (or mu-pipe cancel <run>)` });
  }
  if (!dryRun) for (const s of submissions.filter((x) => !live.includes(x))) await removeSubmission(storeDir, s.planKey, s.jobId);
}
