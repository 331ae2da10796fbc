/**
 * Every on-disk format the engine writes, in one place. Each carries a `version`;
 * readers reject versions they do not know rather than guess.
 */
import type { Metrics } from "./stage.js";

/**
 * What decides whether a stage's cached result may be reused. Its sha256 over the
 * canonical JSON (sorted keys, normalised numbers) is the cache key.
 */
export interface Fingerprint {
  readonly version: 1;
  /** The stage type and its version: a new version of the code means new outputs. */
  readonly stageType: string;
  readonly stageVersion: number;
  /** Validated params with defaults filled, so writing a default explicitly changes nothing. */
  readonly params: unknown;
  /** The experiment seed, only for stage types whose outputs depend on it (else null). */
  readonly seed: number | null;
  /** Input name -> content digest of the upstream artifact that feeds it. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Absolute path of each declared external file or folder -> content digest. */
  readonly external: Readonly<Record<string, string>>;
}

export interface ManifestFile {
  /** Relative to the artifact root, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Lives at `<artifact>/.mu-artifact.json`; the artifact digest is the sha256 of its `files`. */
export interface ArtifactManifest {
  readonly version: 1;
  readonly digest: string;
  readonly files: readonly ManifestFile[];
}

/**
 * The record that a fingerprint was computed, written only after its artifact is in
 * place. Its presence is what makes a stage "done" in the store.
 */
export interface StageRecord {
  readonly version: 1;
  readonly fingerprintKey: string;
  readonly fingerprint: Fingerprint;
  readonly artifactDigest: string;
  readonly metrics: Metrics;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
}

export type StageStatus = "pending" | "running" | "reused" | "succeeded" | "failed" | "interrupted" | "skipped";
export type RunStatus = "running" | "succeeded" | "failed" | "interrupted";

export interface StageRunEntry {
  readonly id: string;
  readonly uses: string;
  readonly status: StageStatus;
  /** Why it ran (or was reused): e.g. "params.lr changed: 0.0001 -> 0.00003". */
  readonly reason: string;
  readonly fingerprintKey: string | null;
  readonly artifactDigest: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly error: string | null;
}

/** `runs/<id>/run.json`, rewritten atomically as the run progresses. */
export interface RunRecord {
  readonly version: 1;
  readonly id: string;
  readonly experiment: string;
  readonly configFile: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly argv: readonly string[];
  readonly stages: readonly StageRunEntry[];
}

/** `runs/<id>/metrics.json`: every stage's metrics, namespaced by stage id. */
export interface RunMetrics {
  readonly version: 1;
  readonly stages: Readonly<Record<string, Metrics>>;
}
