/**
 * Content digests of files and folders (`sha256:<hex>`), used for external inputs in
 * fingerprints and for artifact manifests.
 *
 * - A file's digest is the sha256 of its bytes (what `sha256sum` prints).
 * - A folder's digest is the sha256 of the canonical JSON of its file list: every
 *   regular file below it, at any depth, as `{path, size, sha256}` with `/`-separated
 *   relative paths sorted by UTF-16 code units. Nothing is ignored: dotfiles count.
 *   Empty sub-folders add nothing (only file content is digested, as in git). This is
 *   the same rule as an artifact's digest, so a folder and an artifact holding the same
 *   files have the same digest.
 * - Symbolic links are followed: a dataset folder of links digests as the content the
 *   stage will read, and a link retargeted at other content changes the digest. A
 *   link cycle or a dangling link is an error naming it, as is a socket or FIFO.
 *
 * Re-reading a large dataset on every `status` would be slow, so a `DigestCache` maps a
 * file's stat (path, size, mtime and ctime in ns, inode, device) to its sha256, like
 * git's index. The digest is always of content; the stat only says "this file has not
 * been touched since we read it". Limits: a change that keeps size, mtime, ctime and
 * inode identical goes unseen. ctime cannot be set from user space, so restoring the
 * mtime with `touch -d` after an edit is still noticed; but file systems stamp times
 * with a coarse clock (a few ms), so an edit within the same tick as the read could
 * keep every field. Such "racily clean" files are not cached: a file whose mtime or
 * ctime is within `racyMarginMs` (2 s) of the moment we read it is hashed again next time.
 */
import { createHash } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { lstat, open, readFile, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { canonicalJson } from "./fingerprint.js";
import { MuPipeError } from "./failure.js";
import type { ManifestFile } from "./formats.js";
import { isNotFound, writeFileAtomic } from "./store/atomic-file.js";

const CHUNK = 1 << 20;
const PARALLEL_READS = 8;

/** sha256 hex of a file's bytes, read in chunks so big files never sit in memory. */
export async function hashFileSha256(file: string): Promise<string> {
  return (await hashFile(file, false)).sha256;
}

/** Digest (`sha256:<hex>`) of a file or a folder; see the module comment for the rules. */
export async function digestPath(absPath: string, cache?: DigestCache): Promise<string> {
  const target = path.resolve(absPath);
  const info = await statOrFail(target, stat);
  if (info.isFile()) {
    return `sha256:${(await hashWithCache(target, info, cache)).sha256}`;
  }
  if (info.isDirectory()) {
    return digestOfFiles(await hashFolder(target, { followSymlinks: true, cache }));
  }
  throw ioError(target, "not a regular file or folder");
}

/** The digest of a file list: sha256 of its canonical JSON (sorted as `hashFolder` returns it). */
export function digestOfFiles(files: readonly ManifestFile[]): string {
  return `sha256:${createHash("sha256").update(canonicalJson(files), "utf8").digest("hex")}`;
}

export interface HashFolderOptions {
  /** Follow symbolic links (external inputs); when false, a link is an error (artifacts must hold their content). */
  readonly followSymlinks: boolean;
  /** Relative paths (`/`-separated) to leave out, e.g. the artifact manifest. */
  readonly exclude?: ReadonlySet<string>;
  readonly cache?: DigestCache;
  /** fsync every file after reading it, so its bytes are durable before the folder is renamed into place. */
  readonly fsync?: boolean;
}

/** Every regular file below `dir` with size and sha256, sorted by path. */
export async function hashFolder(dir: string, options: HashFolderOptions): Promise<ManifestFile[]> {
  const root = path.resolve(dir);
  const entries: { rel: string; abs: string }[] = [];
  const ancestors = new Set<string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    const real = options.followSymlinks ? await realpath(abs) : abs;
    if (ancestors.has(real)) throw ioError(abs, "symbolic link cycle");
    ancestors.add(real);
    const children = await readdir(abs, { withFileTypes: true });
    for (const child of children) {
      const childAbs = path.join(abs, child.name);
      const childRel = rel === "" ? child.name : `${rel}/${child.name}`;
      if (options.exclude?.has(childRel)) continue;
      let isDir = child.isDirectory();
      let isFile = child.isFile();
      let isLink = child.isSymbolicLink();
      if (!isDir && !isFile && !isLink) {
        // Some file systems do not report entry types in readdir; ask lstat.
        const own = await statOrFail(childAbs, lstat);
        [isDir, isFile, isLink] = [own.isDirectory(), own.isFile(), own.isSymbolicLink()];
      }
      if (isLink) {
        if (!options.followSymlinks) throw ioError(childAbs, "symbolic links are not allowed here (copy the file instead)");
        const target = await statOrFail(childAbs, stat, "dangling symbolic link");
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDir) await walk(childAbs, childRel);
      else if (isFile) entries.push({ rel: childRel, abs: childAbs });
      else throw ioError(childAbs, "not a regular file or folder");
    }
    ancestors.delete(real);
  };
  await walk(root, "");
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return mapLimit(entries, PARALLEL_READS, async ({ rel, abs }) => {
    const before = await statOrFail(abs, stat);
    const { sha256, size } = await hashWithCache(abs, before, options.cache, options.fsync ?? false);
    return { path: rel, size, sha256 };
  });
}

async function hashWithCache(file: string, before: BigIntStats, cache: DigestCache | undefined, fsync = false): Promise<{ sha256: string; size: number }> {
  const cached = cache?.lookup(file, before);
  if (cached !== undefined && !fsync) return { sha256: cached, size: Number(before.size) };
  const readStartMs = Date.now();
  const result = await hashFile(file, fsync);
  if (cache) {
    const after = await statOrFail(file, stat);
    // A file that changed while we read it gets no cache entry: its hash may mix versions.
    if (statKey(before) === statKey(after)) cache.remember(file, after, result.sha256, readStartMs);
  }
  return result;
}

async function hashFile(file: string, fsync: boolean): Promise<{ sha256: string; size: number }> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    throw ioError(file, (error as Error).message);
  }
  try {
    const hash = createHash("sha256");
    const buffer = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
    if (fsync) await handle.sync();
    return { sha256: hash.digest("hex"), size };
  } finally {
    await handle.close();
  }
}

async function statOrFail(file: string, how: typeof stat | typeof lstat, what?: string): Promise<BigIntStats> {
  try {
    return await how(file, { bigint: true });
  } catch (error) {
    throw ioError(file, isNotFound(error) ? (what ?? "no such file or folder") : (error as Error).message);
  }
}

function ioError(file: string, message: string): MuPipeError {
  return new MuPipeError({ reason: "io", path: file, message });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

interface CacheEntry {
  /** `size:mtimeNs:ctimeNs:ino:dev`, all decimal. */
  readonly stat: string;
  readonly sha256: string;
}

interface CacheFile {
  readonly version: 1;
  readonly entries: Record<string, CacheEntry>;
}

function statKey(st: BigIntStats): string {
  return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;
}

export interface DigestCacheOptions {
  /** Files modified this recently (ms) before being read are not cached; see the module comment. Default 2000. */
  readonly racyMarginMs?: number;
}

/**
 * Absolute path + stat -> sha256 of unchanged files, persisted as JSON (in the store, at
 * `<store>/digest-cache.json`). It is only a cache: an unreadable or unknown-version
 * file starts empty, and a lost entry costs one re-read.
 */
export class DigestCache {
  /** Counts of lookups answered from the cache and of files that had to be read. */
  readonly stats = { hits: 0, misses: 0 };
  private dirty = false;
  /** Entries pruned here, so `save` does not merge them back from disk. */
  private readonly pruned = new Set<string>();
  private readonly racyMarginNs: bigint;

  private constructor(
    private readonly file: string | null,
    private readonly entries: Map<string, CacheEntry>,
    options: DigestCacheOptions,
  ) {
    this.racyMarginNs = BigInt(Math.round((options.racyMarginMs ?? 2000) * 1e6));
  }

  /** Loads the cache file (missing or unreadable: empty). */
  static async load(file: string, options: DigestCacheOptions = {}): Promise<DigestCache> {
    return new DigestCache(file, await readEntries(file), options);
  }

  /** A cache that lives only as long as this object (`save` does nothing). */
  static inMemory(options: DigestCacheOptions = {}): DigestCache {
    return new DigestCache(null, new Map(), options);
  }

  get size(): number {
    return this.entries.size;
  }

  lookup(absPath: string, st: BigIntStats): string | undefined {
    const entry = this.entries.get(absPath);
    if (entry !== undefined && entry.stat === statKey(st)) {
      this.stats.hits++;
      return entry.sha256;
    }
    this.stats.misses++;
    return undefined;
  }

  remember(absPath: string, st: BigIntStats, sha256: string, readStartMs: number): void {
    const newest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
    if (newest >= BigInt(readStartMs) * 1_000_000n - this.racyMarginNs) {
      // Racily clean: a later edit within the same clock tick could leave the stat unchanged.
      this.entries.delete(absPath);
      return;
    }
    this.entries.set(absPath, { stat: statKey(st), sha256 });
    this.pruned.delete(absPath);
    this.dirty = true;
  }

  /** Drops entries whose file no longer exists (so renamed datasets do not pile up). Returns how many. */
  async prune(): Promise<number> {
    let removed = 0;
    for (const file of [...this.entries.keys()]) {
      try {
        await stat(file);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        this.entries.delete(file);
        this.pruned.add(file);
        removed++;
        this.dirty = true;
      }
    }
    return removed;
  }

  /**
   * Writes the cache atomically if anything was added. Entries another process saved
   * meanwhile are merged in (ours win), so concurrent `status` runs lose nothing.
   */
  async save(): Promise<void> {
    if (this.file === null || !this.dirty) return;
    for (const [file, entry] of await readEntries(this.file)) {
      if (!this.entries.has(file) && !this.pruned.has(file)) this.entries.set(file, entry);
    }
    const data: CacheFile = { version: 1, entries: Object.fromEntries(this.entries) };
    await writeFileAtomic(this.file, JSON.stringify(data));
    this.dirty = false;
  }
}

async function readEntries(file: string): Promise<Map<string, CacheEntry>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return new Map();
  }
  const data = parsed as Partial<CacheFile> | null;
  if (data?.version !== 1 || typeof data.entries !== "object" || data.entries === null) return new Map();
  const entries = new Map<string, CacheEntry>();
  for (const [key, entry] of Object.entries(data.entries)) {
    if (typeof entry?.stat === "string" && typeof entry.sha256 === "string") entries.set(key, { stat: entry.stat, sha256: entry.sha256 });
  }
  return entries;
}
