/**
 * The artifact store, behind a small interface so the engine does not care where
 * artifacts live: a folder on this machine (fs-store.ts), a shared file system seen
 * from several hosts, or an object store with a local cache. One shared contract suite
 * (test/pipeline/store-contract.ts) runs against every implementation.
 *
 * The contract, in short:
 * - Artifacts are immutable and content-addressed: `sha256:<hex>` of their manifest's
 *   file list. The engine never builds a path from a digest; it asks `materialize` for a
 *   local folder, which is what stages read (`ctx.inputs`) and run folders link to.
 * - A fingerprint is "done" only when its record and its complete artifact are both
 *   present (`lookup`); commits make the artifact visible before the record, so a crash
 *   never leaves a record of a partial artifact.
 * - Stages write into local folders the store hands out (`Attempt.dir`, `scratchDir`);
 *   `commit` is what publishes an attempt (an object store uploads there).
 * - Records, logs and locks go through methods, never through files the engine opens.
 * - `lock` excludes every process that uses the same store, wherever it runs; a holder
 *   describes itself in words (`owner`, `hostname`) rather than only by a pid, which
 *   means nothing on another host.
 */
import type { ArtifactManifest, Fingerprint, StageRecord } from "../formats.js";
import type { Metrics, StageEnvironment } from "../stage.js";

export interface LockHolder {
  /** Who holds it, for people, without the host: e.g. `pid 4242`, or a Slurm job id. */
  readonly owner: string;
  /** Host of the holder ("" when unknown); loggers name it when it is not this one. */
  readonly hostname: string;
  /** The holder's process id on `hostname`, when the implementation knows one. */
  readonly pid?: number;
  readonly since: string;
  readonly description: string;
}

export interface StoreLock {
  release(): Promise<void>;
}

export interface CommitInfo {
  readonly fingerprint: Fingerprint;
  readonly metrics: Metrics;
  readonly environment?: StageEnvironment;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
}

/** One attempt at computing a fingerprint: a private temp folder until committed. */
export interface Attempt {
  /** Empty folder the stage writes its outputs into. */
  readonly dir: string;
  /**
   * Hashes `dir`, writes its manifest, moves it into place with one rename (or drops it
   * when an identical artifact already exists), then writes the stage record.
   */
  commit(info: CommitInfo): Promise<StageRecord>;
  /** Removes the temp folder. Safe to call twice or after commit. */
  discard(): Promise<void>;
}

export interface VerifyProblem {
  readonly digest: string;
  readonly path: string;
  readonly problem: string;
}

export interface GcResult {
  readonly removedArtifacts: readonly string[];
  readonly removedRecords: readonly string[];
  readonly removedTemp: readonly string[];
  readonly freedBytes: number;
}

export interface ArtifactStore {
  /** The record for a fingerprint key, only if its artifact is complete; else null. */
  lookup(fingerprintKey: string): Promise<StageRecord | null>;
  /**
   * Absolute path of a local folder holding the complete artifact, exactly the files of
   * its manifest (plus the manifest). Read-only for callers; it stays valid while the
   * artifact is in the store (until `gc` removes it). A store whose artifacts live
   * elsewhere fetches it into a local cache first. Throws MuPipeError `store-corrupt`
   * when the artifact is not in the store.
   */
  materialize(digest: string): Promise<string>;
  readManifest(digest: string): Promise<ArtifactManifest>;
  beginAttempt(fingerprintKey: string): Promise<Attempt>;
  /** A folder kept across interrupted attempts of one fingerprint (checkpoints); see `clearScratch`. */
  scratchDir(fingerprintKey: string): Promise<string>;
  /** The scratch folder an earlier attempt left, or null; never creates it (for `status`). */
  findScratch(fingerprintKey: string): Promise<string | null>;
  clearScratch(fingerprintKey: string): Promise<void>;
  /** Stage log kept beside the record, so a reused stage can show the log of the run that made it. */
  writeLog(fingerprintKey: string, text: string): Promise<void>;
  readLog(fingerprintKey: string): Promise<string | null>;
  /**
   * Exclusive lock on one fingerprint across processes. While another live process
   * holds it, waits, calling `onWait` once with the holder. A holder that died (e.g.
   * `kill -9`) is detected and its lock broken.
   */
  lock(fingerprintKey: string, description: string, onWait: (holder: LockHolder) => void, signal?: AbortSignal): Promise<StoreLock>;
  /** Checks every artifact against its manifest. */
  verify(): Promise<VerifyProblem[]>;
  /** Removes artifacts (and their records) whose digest is not in `keep`, and stale temp folders. */
  gc(keep: ReadonlySet<string>, options: { dryRun: boolean }): Promise<GcResult>;
}
