/**
 * Deleting run folders, so users never delete them by hand: a run that is still alive
 * is refused, a folder disappears from listings at once (renamed to a dot-name first,
 * then removed), and `runs/latest` is moved to the newest run left. The artifacts the
 * runs linked stay in the store until `gc` finds that no run uses them.
 */
import { readdir, rename, rm, unlink } from "node:fs/promises";
import path from "node:path";

import { MuPipeError } from "./failure.js";
import { LATEST_LINK } from "./run-directory.js";
import { latestTarget, listRuns, type RunSummary } from "./run-folders.js";
import { replaceSymlink } from "./symlink.js";
import { isAbandoned, ownerSuffix } from "./store/atomic-file.js";

const REMOVING = ".removing-";

export interface RemovalResult {
  readonly removed: readonly RunSummary[];
  /** What `runs/latest` points at now, when it pointed at a removed run (null: no run left, the link is gone). */
  readonly latest?: string | null;
}

/**
 * Removes `runs` from `runsDir`. Refuses (removing nothing) when one of them is still
 * running: alive on this host, or on another host where it cannot be checked.
 */
export async function removeRuns(runsDir: string, runs: readonly RunSummary[], options: { dryRun: boolean }): Promise<RemovalResult> {
  const root = path.resolve(runsDir);
  // A detached Slurm run's jobs still write into its folder.
  const running = runs.filter((run) => run.status === "running" || run.status === "detached");
  if (running.length > 0) {
    const listed = running.map((run) => `${run.id} (${run.statusDetail ?? "running"})`).join(", ");
    throw new MuPipeError({ reason: "usage", message: `cannot remove a run that is still running: ${listed}; stop it first (mu-pipe cancel <run> for one on Slurm)` });
  }
  const target = await latestTarget(root);
  const latestRemoved = target !== null && runs.some((run) => run.dir === target);
  if (options.dryRun) return { removed: runs };
  for (const run of runs) {
    // Out of every listing at once; the slow part happens under a name no reader looks at.
    const doomed = path.join(root, `${REMOVING}${run.id}-${ownerSuffix()}`);
    await rename(run.dir, doomed);
    await rm(doomed, { recursive: true, force: true });
  }
  if (!latestRemoved) return { removed: runs };
  const newest = (await listRuns(root))[0];
  if (newest) {
    await replaceSymlink(newest.id, path.join(root, LATEST_LINK));
    return { removed: runs, latest: newest.id };
  }
  await unlink(path.join(root, LATEST_LINK)).catch(() => undefined);
  return { removed: runs, latest: null };
}

/** Folders a `runs rm` killed mid-removal left behind (their owner is gone); returns their names. */
export async function removeAbandonedRemovals(runsDir: string, dryRun: boolean): Promise<string[]> {
  const names = await readdir(path.resolve(runsDir)).catch(() => [] as string[]);
  const left = names.filter((name) => name.startsWith(REMOVING) && isAbandoned(name));
  if (!dryRun) for (const name of left) await rm(path.join(path.resolve(runsDir), name), { recursive: true, force: true });
  return left;
}
