/**
 * What `gc` keeps and what it removes: cache policy, kept apart from the store that
 * carries it out (store/fs-store.ts) and the command that prints it (cli/commands/gc.ts).
 *
 * - Artifacts: kept while some run folder's run.json names their digest; deleting a run
 *   (`mu-pipe runs rm`) lets go of what only it used. Records of removed artifacts go too.
 * - Temp folders and temp files (and run folders a killed `runs rm` half removed):
 *   removed once their owner process is gone from this host.
 * - Locks (`locks/<key>.lock`): removed when their holder is dead per the lock's own
 *   record (pid, host, process start time); a holder on another host is never judged.
 * - Scratch folders (`scratch/<key>/`, checkpoints kept so an interrupted stage can
 *   resume): removed when no live process holds the fingerprint's lock and either no
 *   run folder names the fingerprint any more, or nothing was written in it for
 *   `scratchMaxAgeMs` (default 7 days): a resume that late is unlikely to be wanted.
 *
 * gc refuses while a run is alive on this host (it may be about to link an artifact it
 * looked up), and when a run.json cannot be read (it may name artifacts gc cannot see).
 */
import os from "node:os";
import path from "node:path";

import { MuPipeError } from "./failure.js";
import { listRuns } from "./run-folders.js";
import { removeAbandonedRemovals } from "./run-removal.js";
import type { GcResult } from "./store/artifact-store.js";
import type { FsArtifactStore } from "./store/fs-store.js";

export const DEFAULT_SCRATCH_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface GcOptions {
  readonly dryRun: boolean;
  /** Scratch untouched this long goes even when a run still names its fingerprint. */
  readonly scratchMaxAgeMs?: number;
  readonly now?: number;
}

export interface GcReport extends GcResult {
  /** Fingerprint keys whose dead lock was removed. */
  readonly removedLocks: readonly string[];
  readonly removedScratch: readonly { readonly fingerprintKey: string; readonly why: "unused" | "old" }[];
}

export async function collectGarbage(runsDir: string, store: FsArtifactStore, options: GcOptions): Promise<GcReport> {
  const runs = await listRuns(runsDir);
  const unreadable = runs.filter((run) => run.record === null);
  if (unreadable.length > 0) {
    const listed = unreadable.map((run) => `${run.id} (${run.problem ?? "run.json unreadable"})`).join(", ");
    throw new MuPipeError({
      reason: "usage",
      message: `cannot tell which artifacts ${unreadable.length === 1 ? "this run uses" : "these runs use"}: ${listed}; fix or delete ${unreadable.length === 1 ? "it" : "them"} (mu-pipe runs rm <run>), then run gc`,
    });
  }
  const live = runs.filter((run) => run.status === "running" && run.record?.hostname === os.hostname());
  if (live.length > 0 && !options.dryRun) {
    // A live run may be about to reuse an artifact it has looked up but not linked yet.
    const listed = live.map((run) => `${run.id} (pid ${run.record?.pid ?? "?"})`).join(", ");
    throw new MuPipeError({ reason: "usage", message: `a run is in progress: ${listed}; run gc when it has finished` });
  }
  const keep = new Set<string>();
  const namedKeys = new Set<string>();
  for (const run of runs) {
    for (const stage of run.record?.stages ?? []) {
      if (stage.artifactDigest) keep.add(stage.artifactDigest);
      if (stage.fingerprintKey) namedKeys.add(stage.fingerprintKey);
    }
  }

  const result = await store.gc(keep, { dryRun: options.dryRun });
  // Half-removed run folders (`runs rm` was killed) count as temp folders.
  const halfRemoved = (await removeAbandonedRemovals(runsDir, options.dryRun)).map((name) => path.join(path.resolve(runsDir), name));
  const locks = await store.removeDeadLocks(options.dryRun);
  const now = options.now ?? Date.now();
  const maxAge = options.scratchMaxAgeMs ?? DEFAULT_SCRATCH_MAX_AGE_MS;
  const removedScratch: { fingerprintKey: string; why: "unused" | "old" }[] = [];
  let scratchBytes = 0;
  for (const folder of await store.scratchFolders()) {
    if (folder.locked) continue;
    const why = !namedKeys.has(folder.fingerprintKey) ? "unused" : now - folder.lastWrittenMs > maxAge ? "old" : null;
    if (why === null) continue;
    scratchBytes += await store.removeScratch(folder.fingerprintKey, options.dryRun);
    removedScratch.push({ fingerprintKey: folder.fingerprintKey, why });
  }
  return { ...result, removedTemp: [...result.removedTemp, ...halfRemoved], removedLocks: locks.removed, removedScratch, freedBytes: result.freedBytes + locks.freedBytes + scratchBytes };
}
