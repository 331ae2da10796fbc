/**
 * The artifact store on the local file system. Layout under `root`:
 *
 *   artifacts/<digest-hex>/         complete artifacts, content-addressed and immutable,
 *                                   each with `.mu-artifact.json` (its manifest)
 *   records/<fingerprintKey>.json   StageRecord: this fingerprint was computed
 *   tmp/<key>-<pid>-<host>-<rand>/  attempts in progress (and folders being deleted)
 *   scratch/<fingerprintKey>/       checkpoints kept across interrupted attempts
 *   logs/<fingerprintKey>.log       the log of the run that made the record
 *   locks/<fingerprintKey>.lock     who is computing this fingerprint right now
 *   digest-cache.json               stat -> sha256 cache for external inputs (digest.ts)
 *
 * Why a crash never leaves something that looks complete: an artifact folder appears
 * under `artifacts/` only by one rename of a temp folder that already holds every file
 * (fsynced) and its manifest; a record appears only by an atomic rename, after the
 * artifact; `lookup` requires both. Deletion runs the other way round: records first,
 * then the artifact is renamed into `tmp/` and only then removed file by file.
 * Temp folders carry their owner's pid, so those of dead processes are removed at open
 * and by `gc`.
 *
 * Committed artifact files are made read-only (write bits cleared), as a guard against
 * a stage writing into its input. Files with more than one hard link are left alone,
 * since their mode is shared with the other name (e.g. a file in the dataset folder).
 */
import type { Dirent } from "node:fs";
import { chmod, lstat, mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { digestOfFiles, DigestCache, hashFolder } from "../digest.js";
import { MuPipeError } from "../failure.js";
import type { ArtifactManifest, StageRecord } from "../formats.js";
import type { ArtifactStore, Attempt, CommitInfo, GcResult, LockHolder, StoreLock, VerifyProblem } from "./artifact-store.js";
import { fsyncDir, isAbandoned, isNotFound, ownerSuffix, writeFileAtomic } from "./atomic-file.js";
import { acquireFileLock, inspectLock, removeDeadLock, type FileLockOptions, type LockState } from "./fs-lock.js";
import { MANIFEST_FILE, verifyArtifact } from "./verify-artifact.js";

export { MANIFEST_FILE };
const DIGEST_PATTERN = /^sha256:([0-9a-f]{64})$/;
/** Fingerprint keys are sha256 hex; other safe names are accepted (tests, store-wide locks such as `gc`). */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export interface OpenStoreOptions {
  /** Remove temp folders of dead processes while opening (default true; cheap: one readdir). */
  readonly cleanStaleTemp?: boolean;
  readonly lock?: FileLockOptions;
}

/** A scratch folder as `gc` weighs it. */
export interface ScratchFolder {
  readonly fingerprintKey: string;
  readonly dir: string;
  readonly bytes: number;
  /** The newest mtime in the folder (a stage writes checkpoints while it runs). */
  readonly lastWrittenMs: number;
  /** Whether a live process (or one on another host) holds the fingerprint's lock: it is using the folder. */
  readonly locked: boolean;
}

export async function openStore(root: string, options: OpenStoreOptions = {}): Promise<FsArtifactStore> {
  const store = new FsArtifactStore(path.resolve(root), options.lock ?? {});
  await Promise.all(["artifacts", "records", "tmp", "scratch", "logs", "locks"].map((dir) => mkdir(path.join(store.root, dir), { recursive: true })));
  if (options.cleanStaleTemp ?? true) await store.removeAbandonedTemp(false);
  return store;
}

export class FsArtifactStore implements ArtifactStore {
  private digestCachePromise: Promise<DigestCache> | null = null;

  /** Use `openStore`, which creates the folders. */
  constructor(
    readonly root: string,
    private readonly lockOptions: FileLockOptions = {},
  ) {}

  async lookup(fingerprintKey: string): Promise<StageRecord | null> {
    const record = await this.readRecord(fingerprintKey);
    if (record === null) return null;
    // A record without its artifact (deleted by hand, or by a gc that was interrupted) is not "done".
    try {
      const manifest = await stat(path.join(this.artifactPath(record.artifactDigest), MANIFEST_FILE));
      return manifest.isFile() ? record : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * The record for a key whether or not its artifact still exists (null when absent or
   * unreadable), e.g. to explain what changed since the fingerprint's last run.
   */
  async readRecord(fingerprintKey: string): Promise<StageRecord | null> {
    let text: string;
    try {
      text = await readFile(this.recordPath(fingerprintKey), "utf8");
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    let record: Partial<StageRecord> | null;
    try {
      record = JSON.parse(text) as Partial<StageRecord> | null;
    } catch {
      return null;
    }
    // Written atomically, so garbage means outside damage or a format we do not know: a miss, recomputed and overwritten.
    if (record?.version !== 1 || record.fingerprintKey !== fingerprintKey) return null;
    if (typeof record.artifactDigest !== "string" || !DIGEST_PATTERN.test(record.artifactDigest)) return null;
    return record as StageRecord;
  }

  /** Where an artifact's folder is (whether or not it exists); the engine uses `materialize`. */
  artifactPath(digest: string): string {
    return path.join(this.root, "artifacts", digestHex(digest));
  }

  /** Artifacts already live in local folders: nothing to fetch, only check the artifact is complete. */
  async materialize(digest: string): Promise<string> {
    const dir = this.artifactPath(digest);
    if (!(await exists(path.join(dir, MANIFEST_FILE)))) {
      throw new MuPipeError({ reason: "store-corrupt", problems: [`${dir}: artifact ${digest} is not in the store`] });
    }
    return dir;
  }

  async readManifest(digest: string): Promise<ArtifactManifest> {
    const file = path.join(this.artifactPath(digest), MANIFEST_FILE);
    let manifest: Partial<ArtifactManifest> | null;
    try {
      manifest = JSON.parse(await readFile(file, "utf8")) as Partial<ArtifactManifest> | null;
    } catch (error) {
      const message = isNotFound(error) ? "artifact not in the store" : `unreadable manifest: ${(error as Error).message}`;
      throw new MuPipeError({ reason: "store-corrupt", problems: [`${file}: ${message}`] });
    }
    if (manifest?.version !== 1 || manifest.digest !== digest || !Array.isArray(manifest.files)) {
      throw new MuPipeError({ reason: "store-corrupt", problems: [`${file}: not a version 1 manifest of ${digest}`] });
    }
    return manifest as ArtifactManifest;
  }

  async beginAttempt(fingerprintKey: string): Promise<Attempt> {
    checkKey(fingerprintKey);
    const dir = path.join(this.root, "tmp", `${fingerprintKey}-${ownerSuffix()}`);
    await mkdir(dir);
    return new FsAttempt(this, fingerprintKey, dir);
  }

  async scratchDir(fingerprintKey: string): Promise<string> {
    const dir = path.join(this.root, "scratch", checkKey(fingerprintKey));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async findScratch(fingerprintKey: string): Promise<string | null> {
    const dir = path.join(this.root, "scratch", checkKey(fingerprintKey));
    return (await stat(dir).catch(() => null))?.isDirectory() ? dir : null;
  }

  async clearScratch(fingerprintKey: string): Promise<void> {
    const dir = path.join(this.root, "scratch", checkKey(fingerprintKey));
    await this.removeTree(dir);
  }

  async writeLog(fingerprintKey: string, text: string): Promise<void> {
    await writeFileAtomic(this.logPath(fingerprintKey), text);
  }

  async readLog(fingerprintKey: string): Promise<string | null> {
    try {
      return await readFile(this.logPath(fingerprintKey), "utf8");
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  logPath(fingerprintKey: string): string {
    return path.join(this.root, "logs", `${checkKey(fingerprintKey)}.log`);
  }

  lock(fingerprintKey: string, description: string, onWait: (holder: LockHolder) => void, signal?: AbortSignal): Promise<StoreLock> {
    const file = path.join(this.root, "locks", `${checkKey(fingerprintKey)}.lock`);
    return acquireFileLock(file, description, onWait, signal, this.lockOptions);
  }

  /** The stat cache for `digestPath`, loaded once per store object; call `save()` on it when done. */
  digestCache(): Promise<DigestCache> {
    this.digestCachePromise ??= DigestCache.load(path.join(this.root, "digest-cache.json"));
    return this.digestCachePromise;
  }

  async verify(): Promise<VerifyProblem[]> {
    const problems: VerifyProblem[] = [];
    for (const hex of await this.artifactHexes()) {
      problems.push(...(await verifyArtifact(path.join(this.root, "artifacts", hex), `sha256:${hex}`)));
    }
    return problems;
  }

  /**
   * Removes artifacts not in `keep` with their records and logs, records of missing
   * artifacts, temp folders and temp files of dead processes. `removedArtifacts` are
   * digests, `removedRecords` fingerprint keys, `removedTemp` absolute paths. Scratch
   * folders (checkpoints of interrupted stages) are left alone.
   *
   * Not safe while a run uses the store: an artifact committed after `keep` was computed
   * would be removed. Callers must make sure no run is active, e.g. with a store-wide
   * `lock("gc", ...)` that runs take as well.
   */
  async gc(keep: ReadonlySet<string>, options: { dryRun: boolean }): Promise<GcResult> {
    const kept = new Set([...keep].map((digest) => digestHex(digest)));
    const removedArtifacts: string[] = [];
    const removedRecords: string[] = [];
    let freedBytes = 0;
    const artifactHexes = new Set(await this.artifactHexes());
    const doomed = new Set([...artifactHexes].filter((hex) => !kept.has(hex)));

    // Records first: an interrupted gc leaves an unreferenced artifact, never a record of a half-deleted one.
    for (const entry of await readdirOrEmpty(path.join(this.root, "records"))) {
      const file = path.join(this.root, "records", entry.name);
      if (!entry.name.endsWith(".json")) {
        if (isAbandoned(entry.name)) freedBytes += await this.removeCounted(file, options.dryRun);
        continue;
      }
      const key = entry.name.slice(0, -".json".length);
      const record = KEY_PATTERN.test(key) ? await this.readRecord(key) : null;
      const hex = record === null ? null : digestHex(record.artifactDigest);
      if (hex !== null && artifactHexes.has(hex) && !doomed.has(hex)) continue;
      removedRecords.push(key);
      freedBytes += await this.removeCounted(file, options.dryRun);
      if (KEY_PATTERN.test(key)) freedBytes += await this.removeCounted(this.logPath(key), options.dryRun);
    }
    for (const hex of [...doomed].sort()) {
      removedArtifacts.push(`sha256:${hex}`);
      freedBytes += await this.removeCounted(path.join(this.root, "artifacts", hex), options.dryRun);
    }
    const temp = await this.removeAbandonedTemp(options.dryRun);
    freedBytes += temp.freedBytes;
    for (const entry of await readdirOrEmpty(path.join(this.root, "locks"))) {
      // Leftovers of a lock breaker killed mid-break.
      if (!entry.name.endsWith(".lock") && isAbandoned(entry.name)) {
        freedBytes += await this.removeCounted(path.join(this.root, "locks", entry.name), options.dryRun);
      }
    }
    for (const dir of [this.root, path.join(this.root, "logs")]) {
      // Temp files of atomic writes (logs, digest cache) whose writer was killed.
      for (const entry of await readdirOrEmpty(dir)) {
        if (entry.isFile() && entry.name.endsWith(".tmp") && isAbandoned(entry.name)) {
          freedBytes += await this.removeCounted(path.join(dir, entry.name), options.dryRun);
        }
      }
    }
    return { removedArtifacts, removedRecords, removedTemp: temp.removed, freedBytes };
  }

  /** Removes temp folders whose owner died on this host; returns their absolute paths. */
  async removeAbandonedTemp(dryRun: boolean): Promise<{ removed: string[]; freedBytes: number }> {
    const removed: string[] = [];
    let freedBytes = 0;
    for (const entry of await readdirOrEmpty(path.join(this.root, "tmp"))) {
      if (!isAbandoned(entry.name)) continue;
      const dir = path.join(this.root, "tmp", entry.name);
      removed.push(dir);
      freedBytes += await this.removeCounted(dir, dryRun);
    }
    return { removed, freedBytes };
  }

  /**
   * Removes lock files whose holder died (a killed run leaves its `.lock` behind);
   * locks of live holders, and of holders on other hosts, stay. Returns the lock files'
   * fingerprint keys.
   */
  async removeDeadLocks(dryRun: boolean): Promise<{ removed: string[]; freedBytes: number }> {
    const grace = this.lockOptions.unreadableGraceMs ?? 5000;
    const removed: string[] = [];
    let freedBytes = 0;
    for (const entry of await readdirOrEmpty(path.join(this.root, "locks"))) {
      if (!entry.name.endsWith(".lock")) continue;
      const file = path.join(this.root, "locks", entry.name);
      const bytes = await diskUsage(file);
      const stale = dryRun ? isStale(await inspectLock(file), grace) : await removeDeadLock(file, grace);
      if (!stale) continue;
      removed.push(entry.name.slice(0, -".lock".length));
      freedBytes += bytes;
    }
    return { removed, freedBytes };
  }

  /** Every scratch folder, with its size, when it was last written and whether a live process holds its fingerprint's lock. */
  async scratchFolders(): Promise<ScratchFolder[]> {
    const grace = this.lockOptions.unreadableGraceMs ?? 5000;
    const folders: ScratchFolder[] = [];
    for (const entry of await readdirOrEmpty(path.join(this.root, "scratch"))) {
      if (!entry.isDirectory() || !KEY_PATTERN.test(entry.name)) continue;
      const dir = path.join(this.root, "scratch", entry.name);
      const lock = await inspectLock(path.join(this.root, "locks", `${entry.name}.lock`));
      folders.push({ fingerprintKey: entry.name, dir, bytes: await diskUsage(dir), lastWrittenMs: await newestMtime(dir), locked: lock.kind !== "gone" && !isStale(lock, grace) });
    }
    return folders.sort((a, b) => a.fingerprintKey.localeCompare(b.fingerprintKey));
  }

  /** Removes one scratch folder (gc); returns the bytes it held. */
  async removeScratch(fingerprintKey: string, dryRun: boolean): Promise<number> {
    return this.removeCounted(path.join(this.root, "scratch", checkKey(fingerprintKey)), dryRun);
  }

  // --- internals used by FsAttempt ---

  recordPath(fingerprintKey: string): string {
    return path.join(this.root, "records", `${checkKey(fingerprintKey)}.json`);
  }

  /** Deletes a folder tree so it never looks half-present: rename into tmp/ first, then remove. */
  async removeTree(target: string): Promise<void> {
    const trash = path.join(this.root, "tmp", `trash-${ownerSuffix()}`);
    try {
      await rename(target, trash);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    await rm(trash, { recursive: true, force: true });
  }

  private async removeCounted(target: string, dryRun: boolean): Promise<number> {
    const bytes = await diskUsage(target);
    if (!dryRun) {
      const info = await lstat(target).catch(() => null);
      if (info?.isDirectory()) await this.removeTree(target);
      else await rm(target, { force: true });
    }
    return bytes;
  }

  private async artifactHexes(): Promise<string[]> {
    const entries = await readdirOrEmpty(path.join(this.root, "artifacts"));
    return entries.filter((entry) => entry.isDirectory() && /^[0-9a-f]{64}$/.test(entry.name)).map((entry) => entry.name).sort();
  }
}

class FsAttempt implements Attempt {
  private state: "open" | "committed" | "discarded" = "open";

  constructor(
    private readonly store: FsArtifactStore,
    private readonly fingerprintKey: string,
    readonly dir: string,
  ) {}

  async commit(info: CommitInfo): Promise<StageRecord> {
    if (this.state !== "open") throw new Error(`attempt ${this.dir} was already ${this.state}`);
    const manifestFile = path.join(this.dir, MANIFEST_FILE);
    if (await exists(manifestFile)) throw new MuPipeError({ reason: "io", path: manifestFile, message: `a stage output may not be named ${MANIFEST_FILE}` });

    const files = await hashFolder(this.dir, { followSymlinks: false, exclude: new Set([MANIFEST_FILE]), fsync: true });
    const digest = digestOfFiles(files);
    const manifest: ArtifactManifest = { version: 1, digest, files };
    await writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    await makeReadOnly(this.dir, files);
    await fsyncTree(this.dir);

    const target = this.store.artifactPath(digest);
    await this.moveIntoPlace(target);
    this.state = "committed";

    const record: StageRecord = {
      version: 1,
      fingerprintKey: this.fingerprintKey,
      fingerprint: info.fingerprint,
      artifactDigest: digest,
      metrics: info.metrics,
      ...(info.environment ? { environment: info.environment } : {}),
      startedAt: info.startedAt,
      finishedAt: info.finishedAt,
      durationMs: info.durationMs,
    };
    await writeFileAtomic(this.store.recordPath(this.fingerprintKey), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  }

  async discard(): Promise<void> {
    if (this.state === "open") await this.store.removeTree(this.dir);
    this.state = "discarded";
  }

  private async moveIntoPlace(target: string): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        await rename(this.dir, target);
        await fsyncDir(path.dirname(target));
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      }
      // Same digest means same files: keep the artifact that is there, if it is complete.
      if (await exists(path.join(target, MANIFEST_FILE))) {
        await this.store.removeTree(this.dir);
        return;
      }
      // A folder without manifest cannot come from a commit; move it out of the way once.
      if (tries > 0) throw new MuPipeError({ reason: "store-corrupt", problems: [`${target}: exists without ${MANIFEST_FILE}`] });
      await this.store.removeTree(target);
    }
  }
}

function checkKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw new Error(`not a valid fingerprint key: ${JSON.stringify(key)}`);
  return key;
}

/** The hex part of `sha256:<hex>` (a bare 64-digit hex is accepted too). */
function digestHex(digest: string): string {
  const match = DIGEST_PATTERN.exec(digest) ?? /^([0-9a-f]{64})$/.exec(digest);
  if (!match?.[1]) throw new Error(`not an artifact digest: ${JSON.stringify(digest)}`);
  return match[1];
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function readdirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

async function makeReadOnly(dir: string, files: readonly { path: string }[]): Promise<void> {
  for (const file of files) {
    const abs = path.join(dir, ...file.path.split("/"));
    const info = await stat(abs);
    if (info.nlink === 1) await chmod(abs, info.mode & 0o7555);
  }
}

/** fsync every folder of a tree (deepest first), so the names of the files in it are durable. */
async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await fsyncTree(path.join(dir, entry.name));
  }
  await fsyncDir(dir);
}

/** Bytes of the files under `target` (0 when it does not exist). */
async function diskUsage(target: string): Promise<number> {
  let info;
  try {
    info = await lstat(target);
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdirOrEmpty(target)) total += await diskUsage(path.join(target, entry.name));
  return total;
}

function isStale(lock: LockState, unreadableGraceMs: number): boolean {
  return lock.kind === "dead" || (lock.kind === "unreadable" && lock.ageMs > unreadableGraceMs);
}

/** The newest mtime of `dir` and everything under it (0 when it is gone). */
async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  try {
    newest = (await lstat(dir)).mtimeMs;
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  for (const entry of await readdirOrEmpty(dir)) {
    const child = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestMtime(child) : ((await lstat(child).catch(() => null))?.mtimeMs ?? 0));
  }
  return newest;
}
