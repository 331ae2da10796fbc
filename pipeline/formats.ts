/**
 * Every on-disk format the engine writes, in one place. Each carries a `version`;
 * readers reject versions they do not know rather than guess.
 */
import type { Metrics, StageEnvironment } from "./stage.js";

/**
 * What decides whether a stage's cached result may be reused. Its sha256 over the
 * canonical JSON (sorted keys, normalised numbers; see `canonicalJson` in
 * fingerprint.ts) is the cache key. Everything that can change a stage's outputs is in
 * here, and nothing else: no paths of the run, no timestamps, no mtimes, no whole
 * config file (which would invalidate every stage when one line changes).
 */
export interface Fingerprint {
  /**
   * Format of this object; a new format gives new keys, so old records are simply not
   * found. Version 2 keys external inputs by relative path (version 1: absolute).
   */
  readonly version: 2;
  /** The stage type and its version: a new version of the code means new outputs. */
  readonly stageType: string;
  readonly stageVersion: number;
  /**
   * Validated params with defaults filled, so writing a default explicitly changes
   * nothing. Key order and number spelling do not matter (canonical JSON).
   */
  readonly params: unknown;
  /**
   * The experiment seed, only for stage types whose outputs depend on it (else null),
   * so changing the seed reruns training but not resizing.
   */
  readonly seed: number | null;
  /**
   * Input name -> content digest of the upstream artifact that feeds it. Digests, not
   * upstream fingerprints: an upstream stage that reruns and yields identical bytes
   * does not invalidate what follows.
   */
  readonly inputs: Readonly<Record<string, string>>;
  /**
   * Each file or folder outside the store that the stage reads -> its content digest
   * (`digestPath` in digest.ts). Keyed by the path relative to the experiment file's
   * folder, `/`-separated (`data/eyes`, or `../shared/eyes` outside the project), as
   * DVC keys paths relative to dvc.yaml: a project moved, copied or mounted at another
   * path on a cluster node keeps its keys, while other content, or the same content at
   * another relative place (which outputs that refer to it by relative path would not
   * find), gives another key. A file found by a search rather than named in the
   * experiment (the ImageNet weights, from $MU_PIPE_WEIGHTS or the Keras cache) is keyed
   * by a name of its own instead (`ExternalInput.key`): only its content matters.
   */
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
  /** What the stage ran on, as it reported (absent in records of stages that report nothing). */
  readonly environment?: StageEnvironment;
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
  /** What the stage ran on (for a reused stage: what the run that made it ran on); null when it reports nothing. */
  readonly environment?: StageEnvironment | null;
  /** For a reused stage: how long computing it took in the run that made it (the time the cache saved). */
  readonly computedMs?: number;
  /** The cluster job that computes it (`--executor slurm`); absent for local stages. */
  readonly job?: ClusterJobEntry;
}

/** A stage's Slurm job, as run.json records it (an optional field: version 1 readers ignore it). */
export interface ClusterJobEntry {
  readonly executor: "slurm";
  readonly id: string;
  /** The batch script (resubmit it with `sbatch <script>`) and the job's output (its job messages and stderr). */
  readonly script: string;
  readonly output: string;
  readonly submittedAt: string;
  /** Set when another run (an earlier submission, or another combination of the sweep) submitted it. */
  readonly submittedBy?: string;
}

/**
 * `<store>/jobs/<plan key>.json`: a job submitted to compute a fingerprint (or, for a stage
 * whose inputs are not made yet, its planned key), so a second submission of the same
 * work attaches to it instead, and `gc` can see the store has work in flight.
 */
export interface ClusterSubmission {
  readonly version: 1;
  readonly planKey: string;
  readonly jobId: string;
  readonly stageId: string;
  readonly runId: string;
  readonly runDir: string;
  readonly script: string;
  readonly output: string;
  readonly submittedAt: string;
  readonly hostname: string;
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
  /** The process running it, so readers can tell a live run from one that was killed (`died`). */
  readonly pid: number;
  readonly hostname: string;
  /**
   * That process's start time (Linux /proc), to tell it from a later process that got
   * the same pid; null when unknown, absent in records written before it was added.
   */
  readonly processStart?: string | null;
  readonly stages: readonly StageRunEntry[];
  /** Present when the run is one combination of a sweep (an optional field: version 1 readers ignore it). */
  readonly sweep?: RunSweepEntry;
  /** Present when the stages ran as cluster jobs; `detached`: the submitting command did not stay to follow them. */
  readonly executor?: { readonly kind: "slurm"; readonly detached: boolean };
}

/** Which sweep a run belongs to and what it set. */
export interface RunSweepEntry {
  /** The sweep's id: its record is `runs/.sweeps/<id>.json`. */
  readonly id: string;
  /** The combination's name, e.g. `lr=1e-3,loss=dice` (the run folder ends in `[<label>]`). */
  readonly label: string;
  /** Param path -> the value this run used, for every swept key. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** `died`: never written; readers say it of a `running` sweep whose process is gone (killed, machine restarted). */
export type SweepStatus = "running" | "succeeded" | "failed" | "interrupted" | "died";

/** `runs/.sweeps/<id>.json`: one sweep's combinations and the run each became, rewritten atomically as they finish. */
export interface SweepRecord {
  readonly version: 1;
  readonly id: string;
  readonly experiment: string;
  readonly configFile: string;
  readonly argv: readonly string[];
  /** `failed` when any combination failed (the others still ran). */
  readonly status: SweepStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The process running it and its host, so readers can tell a live sweep from one that was killed. */
  readonly pid?: number;
  readonly hostname?: string;
  /** The swept param paths; `repeat` ones (folds, seeds) are averaged over in results, not given a row each. */
  readonly keys: readonly { readonly key: string; readonly short: string; readonly repeat: boolean }[];
  readonly combinations: readonly SweepCombinationEntry[];
}

export interface SweepCombinationEntry {
  readonly label: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** The run folder's name; null until the combination starts. */
  readonly runId: string | null;
  /** `pending` until it starts; then its run's status as it ended. */
  readonly status: RunStatus | "pending";
}

/** `runs/<id>/metrics.json`: every stage's metrics, namespaced by stage id. */
export interface RunMetrics {
  readonly version: 1;
  readonly stages: Readonly<Record<string, Metrics>>;
}
