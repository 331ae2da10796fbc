/**
 * The artifact store, behind a small interface so the executor does not care where
 * artifacts live. One shared contract suite (test/pipeline/store-contract.ts) runs
 * against every implementation.
 */
import type { ArtifactManifest, Fingerprint, StageRecord } from "../formats.js";
import type { Metrics, StageEnvironment } from "../stage.js";

export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
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
  readonly root: string;
  /** The record for a fingerprint key, only if its artifact is complete; else null. */
  lookup(fingerprintKey: string): Promise<StageRecord | null>;
  /** Absolute path of a complete artifact folder. */
  artifactPath(digest: string): string;
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
