/**
 * What squeue says about jobs slurmctld still holds: pending and running ones, and
 * finished ones for MinJobAge seconds (300 by default; 30 on scripts/slurm/up.sh's
 * cluster) after they end. A job id absent from the result is no longer in the queue:
 * ask sacct (accounting.ts) how it ended.
 */
import { SlurmError } from "./errors.js";
import { processSlurmRunner, type SlurmRunner } from "./runner.js";

export interface QueueState {
  /** squeue's %T, e.g. PENDING, RUNNING, COMPLETING, COMPLETED, FAILED. */
  readonly state: string;
  /** Why it waits (%r), e.g. Dependency, Resources, Priority; `None` when running. */
  readonly reason: string;
  /** The node(s) it runs on (%N); empty while pending. */
  readonly nodeList: string;
}

const FORMAT = "%i|%T|%r|%N";

export async function queueStates(jobIds: readonly string[], runner: SlurmRunner = processSlurmRunner): Promise<Map<string, QueueState>> {
  const states = new Map<string, QueueState>();
  if (jobIds.length === 0) return states;
  const args = ["--noheader", "--states=all", `--format=${FORMAT}`, `--jobs=${jobIds.join(",")}`];
  const result = await runner.run("squeue", args);
  if (!result.found) throw new SlurmError({ reason: "not-installed", command: "squeue" });
  if (result.exitCode !== 0) {
    // When none of the ids is known any more, squeue fails instead of printing nothing.
    if (/Invalid job id specified/.test(result.stderr)) return states;
    throw new SlurmError({ reason: "command-failed", command: "squeue", args, exitCode: result.exitCode, stderr: result.stderr });
  }
  const wanted = new Set(jobIds);
  for (const line of result.stdout.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.trim().split("|");
    const [id, state, reason, nodeList] = fields;
    if (fields.length !== 4 || !id || !state) {
      throw new SlurmError({ reason: "unexpected-output", command: "squeue", args, output: result.stdout, expected: `lines of ${FORMAT}` });
    }
    if (wanted.has(id)) states.set(id, { state, reason: reason ?? "", nodeList: nodeList ?? "" });
  }
  return states;
}
