/**
 * Earlier runs of an experiment, read from their run.json files, to explain why a
 * stage runs again ("params.lr changed: 0.0001 -> 0.00003").
 */
import type { Fingerprint, RunRecord } from "./formats.js";
import { listRuns } from "./run-folders.js";
import type { ArtifactStore } from "./store/artifact-store.js";

/** Looking further back than this rarely explains anything and costs time on big run folders. */
const MAX_RUNS_SCANNED = 30;

export function previousFingerprints(
  runsDir: string,
  experiment: string,
  store: ArtifactStore,
  excludeRunId: string | null,
): (stageId: string) => Promise<Fingerprint | null> {
  let runs: Promise<RunRecord[]> | null = null;
  const loadRuns = async (): Promise<RunRecord[]> => {
    // One more than the cap, since the run in progress may be among the newest.
    const summaries = await listRuns(runsDir, { experiment, newest: MAX_RUNS_SCANNED + 1 });
    // A run folder without a readable run.json (e.g. killed while starting) explains nothing.
    return summaries.flatMap((run) => (run.record !== null && run.id !== excludeRunId ? [run.record] : [])).slice(0, MAX_RUNS_SCANNED);
  };
  return async (stageId) => {
    runs ??= loadRuns();
    for (const run of await runs) {
      const key = run.stages.find((s) => s.id === stageId)?.fingerprintKey;
      if (!key) continue;
      const record = await store.lookup(key);
      if (record) return record.fingerprint;
    }
    return null;
  };
}
