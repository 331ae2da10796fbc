/**
 * Small file-system primitives the store builds on: atomic replace of a file, fsync of a
 * folder, owner tags for temporary names, and whether a process is still alive.
 *
 * Hand-written rather than taken from write-file-atomic: the store needs the folder
 * fsync after the rename (so the new name survives a power cut), and temp names that
 * carry the writer's pid so `gc` can tell an abandoned temp file from one being written.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** Eight hex digits naming this host in temp names (hostnames may contain anything). */
export const HOST_TAG = createHash("sha256").update(os.hostname()).digest("hex").slice(0, 8);

/** `<pid>-<hostTag>-<random>`: who owns a temporary name, parsed back by `parseOwnerSuffix`. */
export function ownerSuffix(): string {
  return `${process.pid}-${HOST_TAG}-${randomBytes(4).toString("hex")}`;
}

export interface OwnerInfo {
  /** What precedes the owner suffix. */
  readonly prefix: string;
  readonly pid: number;
  readonly hostTag: string;
}

/** Reads `<prefix>-<pid>-<hostTag>-<random>[.tmp]`; null when the name is not one of ours. */
export function parseOwnerSuffix(name: string): OwnerInfo | null {
  const match = /^(.*)-(\d+)-([0-9a-f]{8})-([0-9a-f]{8})(\.tmp)?$/.exec(name);
  if (!match) return null;
  return { prefix: match[1] ?? "", pid: Number(match[2]), hostTag: match[3] ?? "" };
}

/** True when a temp name belongs to a process of this host that no longer runs. */
export function isAbandoned(name: string): boolean {
  const owner = parseOwnerSuffix(name);
  if (owner === null) return true;
  if (owner.hostTag !== HOST_TAG) return false;
  return !isProcessAlive(owner.pid);
}

/**
 * Whether `pid` is a live process on this host. `kill(pid, 0)` says whether the pid
 * exists (EPERM: it does, owned by someone else). On Linux a zombie (killed but not yet
 * reaped by its parent) also exists, so /proc tells us its state; and when the caller
 * knows the process start time it recorded, a different start time means the pid was
 * reused by another process.
 */
export function isProcessAlive(pid: number, expectedStart?: string | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const stat = readProcStat(pid);
  if (stat === null) return true;
  if (stat.state === "Z" || stat.state === "X") return false;
  if (expectedStart != null && stat.startTime !== expectedStart) return false;
  return true;
}

/** Start time of a process (clock ticks since boot, Linux), to detect pid reuse; null elsewhere. */
export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

function readProcStat(pid: number): { state: string; startTime: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces; fields after it are plain.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return null;
  return { state, startTime };
}

/** fsync a folder so renames and creations in it survive a power cut. Not every platform allows it. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Replaces `file` with `data` so readers see either the old or the new content, never a
 * mix: write a temp file beside it (named with our pid), fsync, rename, fsync the folder.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}-${ownerSuffix()}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(path.dirname(file));
}

/** Whether an error is "no such file or folder". */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
