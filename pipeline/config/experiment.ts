/** The validated, resolved experiment the rest of the engine works from. */
import type { SourceSpan } from "../failure.js";
import type { RuntimeSettings } from "../stage.js";
import type { ExecutorName, SlurmSettings } from "./execution-settings.js";

export interface ExperimentSettings {
  readonly seed: number;
  readonly runtime: RuntimeSettings;
  /** Absolute. `settings.runs_dir`, relative to the current directory (default `runs`). */
  readonly runsDir: string;
  /** Absolute. `settings.store`, relative to the current directory (default `<runs_dir>/.store`). */
  readonly storeDir: string;
  /** How many stages may run at once (`settings.jobs`, `--jobs`). */
  readonly jobs: number;
  /** Where stages run (`settings.executor`, `--executor`). */
  readonly executor: ExecutorName;
  /** Resources of Slurm jobs (`settings.slurm`). */
  readonly slurm: SlurmSettings;
}

/** `inputs: { name: "stage.output" }` (or just `"stage"` when it has a single output). */
export interface InputRef {
  readonly stage: string;
  readonly output: string | null;
}

export interface StageConfig {
  readonly id: string;
  readonly uses: string;
  readonly description: string | null;
  readonly inputs: Readonly<Record<string, InputRef>>;
  /** Validated against the stage type's schema, defaults filled in. */
  readonly params: Readonly<Record<string, unknown>>;
}

export interface ExperimentConfig {
  readonly name: string;
  /** Absolute path of the experiment file given on the command line. */
  readonly file: string;
  /** Folder of that file: relative paths in params resolve against it. */
  readonly baseDir: string;
  readonly settings: ExperimentSettings;
  /** In the order the file lists them. */
  readonly stages: readonly StageConfig[];
  /** The merged document after `extends:` and `--set`, as plain data (saved with each run). */
  readonly resolved: Readonly<Record<string, unknown>>;
  /** Where a key path (e.g. ["stages", "resize", "inputs", "dataset"]) was written, or its nearest ancestor. */
  locate(keyPath: readonly (string | number)[]): SourceSpan | null;
}
