/**
 * Slurm job states (as squeue %T and sacct State print them) sorted into what a pipeline
 * executor acts on: wait (pending, running), go on (succeeded), or stop and report which
 * way the job failed. Names follow the JOB STATE CODES in squeue(1) and sacct(1), 22.05.
 */

/** How a job can end without succeeding; each is reported with its own words. */
export const FAILED_STATES = ["FAILED", "OUT_OF_MEMORY", "TIMEOUT", "NODE_FAIL", "CANCELLED", "PREEMPTED", "BOOT_FAIL", "DEADLINE"] as const;
export type FailedState = (typeof FAILED_STATES)[number];

export type JobPhase =
  /** Not yet running: waiting for resources, priority, a dependency, or requeued. */
  | { readonly phase: "pending"; readonly state: string }
  /** Started and not yet finished (COMPLETING: ended, still cleaning up; its final state is not known yet). */
  | { readonly phase: "running"; readonly state: string }
  | { readonly phase: "succeeded" }
  | { readonly phase: "failed"; readonly state: FailedState }
  /** A state this code does not sort (e.g. SPECIAL_EXIT, REVOKED, or one a later Slurm adds). */
  | { readonly phase: "unknown"; readonly state: string };

const PENDING = new Set(["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD"]);
const RUNNING = new Set(["RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING"]);

/**
 * The bare state name: sacct prints `CANCELLED by 0` (the uid that cancelled) and, in
 * fixed-width output, may cut a name and end it with `+`.
 */
export function normaliseState(raw: string): string {
  const first = raw.trim().split(/\s+/)[0] ?? "";
  return first.replace(/\+$/, "").toUpperCase();
}

export function classifyState(raw: string): JobPhase {
  const state = normaliseState(raw);
  if (state === "COMPLETED") return { phase: "succeeded" };
  if (PENDING.has(state)) return { phase: "pending", state };
  if (RUNNING.has(state)) return { phase: "running", state };
  const failed = FAILED_STATES.find((s) => s === state);
  if (failed !== undefined) return { phase: "failed", state: failed };
  return { phase: "unknown", state };
}

/** Whether the job has ended for good (its state will not change any more). */
export function isFinal(phase: JobPhase): boolean {
  return phase.phase === "succeeded" || phase.phase === "failed";
}

export interface ExitStatus {
  /** The script's exit code (0 when it was killed by a signal). */
  readonly exitCode: number;
  /** The signal that ended it, 0 when none. */
  readonly signal: number;
}

/** sacct's ExitCode `code:signal`, e.g. `3:0` (exit 3) or `0:15` (SIGTERM); null when not in that form. */
export function parseExitCode(text: string): ExitStatus | null {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match) return null;
  return { exitCode: Number(match[1]), signal: Number(match[2]) };
}
