/**
 * Cancels jobs with scancel. Cancelling a job that already ended (or that slurmctld no
 * longer knows) is not an error: scancel exits 0 for it, and so does this.
 */
import { processSlurmRunner, runSlurmCommand, type SlurmRunner } from "./runner.js";

export async function cancelJobs(jobIds: readonly string[], runner: SlurmRunner = processSlurmRunner): Promise<void> {
  if (jobIds.length === 0) return;
  await runSlurmCommand(runner, "scancel", [...jobIds]);
}
