/**
 * How jobs ended (or how they are doing), from the accounting database via sacct. Unlike
 * squeue it keeps finished jobs, but it learns of a job from slurmctld asynchronously:
 * a job just submitted, or just ended, may be missing or show its previous state for a
 * moment. Ids sacct does not know are absent from the result.
 *
 * Slurm 22.05 race (seen on scripts/slurm/up.sh's cluster): when a short job's step
 * record reaches slurmdbd before the job's own start record, slurmdbd stores a
 * placeholder job named `allocation` with no partition, whose state can already read
 * PENDING or COMPLETED; the real record replaces it within a few seconds. Such records
 * come back with `provisional: true`: wait for the real one before trusting name or state.
 */
import { SlurmError } from "./errors.js";
import { processSlurmRunner, runSlurmCommand, type SlurmRunner } from "./runner.js";
import { classifyState, normaliseState, parseExitCode, type ExitStatus, type JobPhase } from "./states.js";

export interface AccountingRecord {
  readonly jobId: string;
  readonly name: string;
  /** The job's state, normalised (`CANCELLED by 0` -> `CANCELLED`); OUT_OF_MEMORY when a step ran out of memory. */
  readonly state: string;
  readonly phase: JobPhase;
  /** The job's exit code and signal; null while it has none sacct can print. */
  readonly exit: ExitStatus | null;
  readonly elapsedSeconds: number;
  /** The largest resident set of any step, in bytes; null when nothing was measured. */
  readonly maxRssBytes: number | null;
  /** Where it ran; null when it never got a node (e.g. cancelled while pending). */
  readonly nodeList: string | null;
  /** ISO local times (SLURM_TIME_FORMAT=standard); null when sacct prints Unknown/None. */
  readonly start: string | null;
  readonly end: string | null;
  /** slurmdbd's placeholder (no partition yet): name and state are not the job's; ask again. */
  readonly provisional: boolean;
}

const FIELDS = ["JobID", "JobName", "State", "ExitCode", "Elapsed", "MaxRSS", "NodeList", "Start", "End", "Partition"] as const;

/** `[D-]HH:MM:SS` or `MM:SS(.mmm)` to seconds. */
export function parseElapsed(text: string): number {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)(?:\.\d+)?$/.exec(text.trim());
  if (!match) return 0;
  const [, days, hours, minutes, seconds] = match;
  return ((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes)) * 60 + Number(seconds);
}

/** sacct's MaxRSS (`216K`, `1.50M`, plain bytes) in bytes; null when empty. */
export function parseSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([KMGTP]?)$/i.exec(text.trim());
  if (!match) return null;
  const power = " KMGTP".indexOf((match[2] || " ").toUpperCase());
  return Math.round(Number(match[1]) * 1024 ** power);
}

function timeOrNull(text: string): string | null {
  return /^\d{4}-\d\d-\d\dT/.test(text) ? text : null;
}

interface Line {
  readonly id: string;
  readonly fields: readonly string[];
}

export async function accountingStates(jobIds: readonly string[], runner: SlurmRunner = processSlurmRunner): Promise<Map<string, AccountingRecord>> {
  const records = new Map<string, AccountingRecord>();
  if (jobIds.length === 0) return records;
  const args = ["--noheader", "--parsable2", `--format=${FIELDS.join(",")}`, `--jobs=${jobIds.join(",")}`];
  const stdout = await runSlurmCommand(runner, "sacct", args);
  // Group the job line with its steps (`12.batch`, `12.extern`, `12.0`).
  const byJob = new Map<string, { main?: Line; steps: Line[] }>();
  for (const text of stdout.split("\n")) {
    if (text.trim() === "") continue;
    const fields = text.split("|");
    const id = fields[0] ?? "";
    if (fields.length !== FIELDS.length || id === "") {
      throw new SlurmError({ reason: "unexpected-output", command: "sacct", args, output: stdout, expected: `lines of ${FIELDS.join("|")}` });
    }
    const jobId = id.split(".")[0] ?? id;
    const group = byJob.get(jobId) ?? { steps: [] };
    if (id === jobId) group.main = { id, fields };
    else group.steps.push({ id, fields });
    byJob.set(jobId, group);
  }
  const wanted = new Set(jobIds);
  for (const [jobId, { main, steps }] of byJob) {
    if (!main || !wanted.has(jobId)) continue;
    const [, name = "", rawState = "", exitCode = "", elapsed = "", , nodeList = "", start = "", end = "", partition = ""] = main.fields;
    let state = normaliseState(rawState);
    // Older Slurm marks only the step that ran out of memory; 22.05 marks the job too.
    const stepOom = steps.some((s) => normaliseState(s.fields[2] ?? "") === "OUT_OF_MEMORY");
    if (stepOom && (state === "COMPLETED" || state === "FAILED" || state === "CANCELLED")) state = "OUT_OF_MEMORY";
    const rss = [main, ...steps].map((s) => parseSize(s.fields[5] ?? "")).filter((n): n is number => n !== null);
    records.set(jobId, {
      jobId,
      name,
      state,
      phase: classifyState(state),
      exit: parseExitCode(exitCode),
      elapsedSeconds: parseElapsed(elapsed),
      maxRssBytes: rss.length > 0 ? Math.max(...rss) : null,
      nodeList: nodeList === "" || nodeList === "None assigned" ? null : nodeList,
      start: timeOrNull(start),
      end: timeOrNull(end),
      provisional: partition === "",
    });
  }
  return records;
}
