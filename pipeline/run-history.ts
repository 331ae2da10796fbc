/**
 * Earlier runs of an experiment, read from their run.json files, to explain why a
 * stage runs again ("params.lr changed: 0.0001 -> 0.00003").
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { Fingerprint, RunRecord } from "./formats.js";
import { RUN_FILE } from "./run-directory.js";
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
    const names = await fs.readdir(runsDir).catch(() => [] as string[]);
    const candidates = names
      .filter((n) => !n.startsWith(".") && n !== "latest" && n !== excludeRunId && n.includes(`-${experiment}`))
      .sort()
      .reverse()
      .slice(0, MAX_RUNS_SCANNED);
    const records: RunRecord[] = [];
    for (const name of candidates) {
      try {
        const record = JSON.parse(await fs.readFile(path.join(runsDir, name, RUN_FILE), "utf8")) as RunRecord;
        if (record.version === 1 && record.experiment === experiment) records.push(record);
      } catch {
        // A run folder without a readable run.json (e.g. killed while starting) explains nothing.
      }
    }
    return records;
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
