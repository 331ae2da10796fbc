/**
 * One answer to "how are these jobs doing": squeue while slurmctld holds a job, sacct
 * once it has left the queue (or ended), as Snakemake's and Nextflow's executors do.
 * sacct learns of jobs asynchronously, so an id neither knows yet (just submitted) is
 * absent, and a provisional accounting record is not trusted.
 */
import { accountingStates, classifyState, isFinal, queueStates, type ExitStatus, type JobPhase } from "../slurm/index.js";

export interface JobStatus {
  readonly phase: JobPhase["phase"];
  /** Slurm's state name, e.g. PENDING, RUNNING, COMPLETED, OUT_OF_MEMORY. */
  readonly state: string;
  /** Why a pending job waits (squeue's reason, e.g. Dependency, Resources); null otherwise. */
  readonly reason: string | null;
  /** How it ended (sacct), when it has. */
  readonly exit: ExitStatus | null;
  readonly final: boolean;
}

export async function jobStatuses(ids: readonly string[]): Promise<Map<string, JobStatus>> {
  const result = new Map<string, JobStatus>();
  if (ids.length === 0) return result;
  const queued = await queueStates(ids);
  const ask: string[] = [];
  for (const id of ids) {
    const q = queued.get(id);
    const phase = q ? classifyState(q.state) : null;
    if (q && phase && !isFinal(phase)) {
      result.set(id, { phase: phase.phase, state: q.state, reason: q.reason === "None" ? null : q.reason, exit: null, final: false });
    } else {
      ask.push(id); // left the queue, or ended: sacct has the exit code
    }
  }
  if (ask.length > 0) {
    const accounted = await accountingStates(ask);
    for (const id of ask) {
      const record = accounted.get(id);
      if (!record || record.provisional) continue;
      result.set(id, { phase: record.phase.phase, state: record.state, reason: null, exit: record.exit, final: isFinal(record.phase) });
    }
  }
  return result;
}

/** `OUT_OF_MEMORY (exit code 0, signal 9)`: a job's end in words. */
export function describeEnd(status: JobStatus): string {
  if (!status.exit) return status.state;
  const { exitCode, signal } = status.exit;
  return `${status.state} (exit code ${exitCode}${signal ? `, signal ${signal}` : ""})`;
}
