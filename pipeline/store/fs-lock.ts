/**
 * A lock file per fingerprint, so two mu-pipe processes never compute the same stage at
 * once.
 *
 * Hand-written on purpose: libraries such as proper-lockfile decide that a lock is stale
 * by its age (an mtime refreshed by a timer), so after `kill -9` the next run must wait
 * out the staleness period, and a long stage must keep touching its lock. Here the lock
 * file records the holder's pid, host and process start time; a holder on this host
 * whose process is gone (ESRCH, a zombie, or a reused pid with another start time) is
 * detected at once. A holder on another host (a Slurm job on a shared file system)
 * cannot be looked up by pid: it touches its lock file every `HEARTBEAT_MS`, and its
 * lock counts as abandoned once that heartbeat is older than `staleAfterMs` (a node
 * that died, a job killed with SIGKILL). The file also names the Slurm job, if any.
 *
 * Taking: create `<key>.lock` with O_EXCL and write the holder as JSON. A file that
 * exists but cannot be parsed is a holder caught between create and write; it is
 * broken only once older than `unreadableGraceMs`.
 *
 * Breaking: rename the stale file to a name of our own, then check that what we moved
 * is the file we judged stale. If another breaker got there first and already took a
 * fresh lock, we moved *their* file: we put it back with link() (which, unlike rename,
 * refuses to replace a file) and wait. Only a three-way race within a few
 * milliseconds could still let two holders through.
 */
import { link, open, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LockHolder, StoreLock } from "./artifact-store.js";
import { fsyncDir, isNotFound, isProcessAlive, ownerSuffix, processStartTime } from "./atomic-file.js";

export interface FileLockOptions {
  /** How often to look at a held lock. Default 200 ms. */
  readonly pollMs?: number;
  /** How long a lock file may stay unparsable before it counts as abandoned. Default 5000 ms. */
  readonly unreadableGraceMs?: number;
  /** How old another host's heartbeat may get before its lock counts as abandoned. Default `STALE_AFTER_MS`. */
  readonly staleAfterMs?: number;
}

/** How often a holder touches its lock file. */
export const HEARTBEAT_MS = 30_000;
/** Another host's lock is abandoned after this long without a heartbeat: several missed beats, not one slow disk. */
export const STALE_AFTER_MS = 5 * HEARTBEAT_MS;

/** What the lock file holds: the public holder plus what we need to check liveness and ownership. */
interface LockFileContent extends LockHolder {
  readonly pid: number;
  /** Process start time (Linux), to tell a reused pid from the holder; null when unknown. */
  readonly processStart: string | null;
  /** Random, so `release` can tell its own file from one that replaced it. */
  readonly token: string;
  /** The Slurm job the holder runs in ($SLURM_JOB_ID), if any. */
  readonly slurmJobId?: string;
}

type Observed =
  | { readonly kind: "gone" }
  | { readonly kind: "held"; readonly text: string; readonly holder: LockFileContent; readonly ageMs: number }
  | { readonly kind: "unreadable"; readonly text: string; readonly ageMs: number };

/** An error like the ones Node's own APIs reject with when aborted. */
export function abortError(signal: AbortSignal): Error {
  const error = new Error("waiting for the lock was aborted", { cause: signal.reason });
  error.name = "AbortError";
  return error;
}

export async function acquireFileLock(
  file: string,
  description: string,
  onWait: (holder: LockHolder) => void,
  signal?: AbortSignal,
  options: FileLockOptions = {},
): Promise<StoreLock> {
  const pollMs = options.pollMs ?? 200;
  const unreadableGraceMs = options.unreadableGraceMs ?? 5000;
  let waited = false;
  for (;;) {
    if (signal?.aborted) throw abortError(signal);
    const mine = await tryCreate(file, description);
    if (mine !== null) return mine;
    const observed = await observe(file);
    if (observed.kind === "gone") continue;
    if (observed.kind === "held") {
      const { holder } = observed;
      if (isAbandoned(holder, observed.ageMs, options.staleAfterMs ?? STALE_AFTER_MS)) {
        await breakLock(file, observed.text);
        continue;
      }
      if (!waited) {
        waited = true;
        onWait({ owner: holder.owner, pid: holder.pid, hostname: holder.hostname, since: holder.since, description: holder.description });
      }
    } else if (observed.ageMs > unreadableGraceMs) {
      await breakLock(file, observed.text);
      continue;
    }
    try {
      await sleep(pollMs, undefined, { signal });
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw error;
    }
  }
}

/** A holder here whose process is gone, or one elsewhere whose heartbeat stopped. */
function isAbandoned(holder: LockFileContent, ageMs: number, staleAfterMs: number): boolean {
  if (holder.hostname === os.hostname()) return !isProcessAlive(holder.pid, holder.processStart);
  return ageMs > staleAfterMs;
}

async function tryCreate(file: string, description: string): Promise<StoreLock | null> {
  const slurmJobId = process.env.SLURM_JOB_ID;
  const content: LockFileContent = {
    owner: slurmJobId ? `Slurm job ${slurmJobId} (pid ${process.pid})` : `pid ${process.pid}`,
    pid: process.pid,
    hostname: os.hostname(),
    since: new Date().toISOString(),
    description,
    processStart: processStartTime(process.pid),
    token: ownerSuffix(),
    ...(slurmJobId ? { slurmJobId } : {}),
  };
  const text = `${JSON.stringify(content, null, 2)}\n`;
  let handle;
  try {
    handle = await open(file, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return null;
    throw error;
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(file).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await fsyncDir(path.dirname(file));
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    release: () => {
      clearInterval(heartbeat);
      return releaseIfOurs(file, text);
    },
  };
}

async function releaseIfOurs(file: string, text: string): Promise<void> {
  let current: string;
  try {
    current = await readFile(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  if (current !== text) return;
  await unlink(file).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}

async function observe(file: string): Promise<Observed> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await readFile(file, "utf8");
    mtimeMs = (await stat(file)).mtimeMs;
  } catch (error) {
    if (isNotFound(error)) return { kind: "gone" };
    throw error;
  }
  const holder = parseHolder(text);
  if (holder === null) return { kind: "unreadable", text, ageMs: Date.now() - mtimeMs };
  return { kind: "held", text, holder, ageMs: Date.now() - mtimeMs };
}

function parseHolder(text: string): LockFileContent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const v = value as Partial<LockFileContent> | null;
  if (typeof v?.pid !== "number" || typeof v.hostname !== "string") return null;
  return {
    // Lock files written before `owner` existed say who they are by pid alone.
    owner: typeof v.owner === "string" ? v.owner : `pid ${v.pid}`,
    pid: v.pid,
    hostname: v.hostname,
    since: typeof v.since === "string" ? v.since : "",
    description: typeof v.description === "string" ? v.description : "",
    processStart: typeof v.processStart === "string" ? v.processStart : null,
    token: typeof v.token === "string" ? v.token : "",
    ...(typeof v.slurmJobId === "string" ? { slurmJobId: v.slurmJobId } : {}),
  };
}

/** Removes the lock file if it still holds `staleText`; see the module comment. */
async function breakLock(file: string, staleText: string): Promise<void> {
  const aside = `${file}.breaking-${ownerSuffix()}`;
  try {
    await rename(file, aside);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const moved = await readFile(aside, "utf8").catch(() => null);
  if (moved !== null && moved !== staleText) {
    // We moved a live holder's fresh lock: put it back, unless a new one already appeared.
    await link(aside, file).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    });
  }
  await unlink(aside).catch(() => undefined);
}

/** Who holds a lock file, as `gc` sees it. */
export type LockState =
  | { readonly kind: "gone" }
  /** Held by a live process on this host, or by one on another host whose heartbeat is fresh. */
  | { readonly kind: "live"; readonly holder: LockHolder }
  /** Its holder's process is gone from this host (or the pid now belongs to another process), or another host's heartbeat stopped. */
  | { readonly kind: "dead"; readonly holder: LockHolder }
  /** Cannot be parsed: a holder between create and write, or damage; stale once older than the grace period. */
  | { readonly kind: "unreadable"; readonly ageMs: number };

export async function inspectLock(file: string): Promise<LockState> {
  const observed = await observe(file);
  if (observed.kind === "gone") return observed;
  if (observed.kind === "unreadable") return { kind: "unreadable", ageMs: observed.ageMs };
  const { owner, pid, hostname, since, description } = observed.holder;
  const holder: LockHolder = { owner, pid, hostname, since, description };
  const dead = isAbandoned(observed.holder, observed.ageMs, STALE_AFTER_MS);
  return { kind: dead ? "dead" : "live", holder };
}

/**
 * Removes a lock file whose holder is dead (or that stayed unparsable past
 * `unreadableGraceMs`), the same way a waiting process would break it; returns whether
 * it did. A lock taken afresh in the meantime is left alone.
 */
export async function removeDeadLock(file: string, unreadableGraceMs = 5000, staleAfterMs = STALE_AFTER_MS): Promise<boolean> {
  const observed = await observe(file);
  if (observed.kind === "gone") return false;
  if (observed.kind === "held") {
    if (!isAbandoned(observed.holder, observed.ageMs, staleAfterMs)) return false;
  } else if (observed.ageMs <= unreadableGraceMs) {
    return false;
  }
  await breakLock(file, observed.text);
  return true;
}
