/**
 * What Slurm says now about a run's jobs, for `show` and `cancel`: the stages recorded
 * as pending or running with a job id. Slurm that cannot be asked is a note, not a failure.
 */
import type { RunRecord } from "../pipeline/formats.js";

export interface LiveJob {
  readonly stageId: string;
  readonly jobId: string;
  /** e.g. `PENDING (Dependency)`, `RUNNING`, `COMPLETED`, `OUT_OF_MEMORY (exit code 0, signal 9)`; null when Slurm does not know it. */
  readonly state: string | null;
  readonly final: boolean;
}

function unfinishedJobs(record: RunRecord): { stageId: string; jobId: string }[] {
  return record.stages.flatMap((s) => (s.job && (s.status === "pending" || s.status === "running") ? [{ stageId: s.id, jobId: s.job.id }] : []));
}

export async function liveJobs(record: RunRecord): Promise<{ jobs: LiveJob[]; problem: string | null }> {
  const wanted = unfinishedJobs(record);
  if (wanted.length === 0) return { jobs: [], problem: null };
  try {
    const { describeEnd, jobStatuses } = await import("../pipeline/cluster/job-status.js");
    const statuses = await jobStatuses(wanted.map((w) => w.jobId));
    return {
      jobs: wanted.map((w) => {
        const status = statuses.get(w.jobId);
        const state = status ? (status.final ? describeEnd(status) : `${status.state}${status.reason ? ` (${status.reason})` : ""}`) : null;
        return { ...w, state, final: status?.final ?? false };
      }),
      problem: null,
    };
  } catch (error) {
    return { jobs: wanted.map((w) => ({ ...w, state: null, final: false })), problem: `cannot ask Slurm: ${error instanceof Error ? error.message : String(error)}` };
  }
}
