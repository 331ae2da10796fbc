/**
 * The contract between the engine and the stage types it runs.
 *
 * The engine (pipeline/) knows stage types only through this interface; the domain
 * (stages/) implements it. A stage type module must stay cheap to import: heavy
 * dependencies (sharp, TensorFlow) are imported inside `run`, so `status` and `dag`
 * never load them.
 */
import type { ReportSection } from "./report-section.js";

/** A JSON Schema object (draft-07, as ajv validates it). */
export type JsonSchema = Record<string, unknown>;

export type MetricValue = number | string | boolean | null;
export type Metrics = Record<string, MetricValue>;

export interface PortSpec {
  readonly description: string;
}

export interface InputSpec extends PortSpec {
  /** An optional input may be left out of the experiment file. */
  readonly optional?: boolean;
}

export interface ProgressUpdate {
  /** Short status shown next to the stage, e.g. "epoch 3/30 batch 120/223 loss 0.41". */
  readonly message?: string;
  /** Work done so far, with `total`, to show a fraction and an ETA. */
  readonly current?: number;
  readonly total?: number;
  readonly unit?: string;
}

export interface RuntimeSettings {
  readonly backend: string;
  readonly threads?: number;
  readonly [key: string]: unknown;
}

export interface StageContext<Params> {
  readonly stageId: string;
  /** Validated params with schema defaults filled in. */
  readonly params: Params;
  /** Input name -> absolute path of the upstream output (file or folder). Read-only. */
  readonly inputs: Readonly<Record<string, string>>;
  /** An empty folder owned by this attempt; write each declared output at `outDir/<output name>`. */
  readonly outDir: string;
  /**
   * A folder that survives an interrupted attempt with the same fingerprint (for
   * checkpoints a later attempt resumes from). Removed once the stage succeeds.
   */
  readonly scratchDir: string;
  /** Folder of the experiment file: relative paths in params resolve against it. */
  readonly baseDir: string;
  /** The experiment's seed (part of the fingerprint only for types with `usesSeed`). */
  readonly seed: number;
  readonly runtime: RuntimeSettings;
  /**
   * Aborted on Ctrl-C: stop soon (within about one step of work) and throw (any error is
   * fine). The engine waits for `run` to settle before it releases the stage, so check
   * it between steps; code that holds the thread (a TensorFlow batch) should also yield
   * to the event loop between steps, or the signal is not seen until it does.
   */
  readonly signal: AbortSignal;
  /**
   * Marks work that must not be cut short, such as writing a checkpoint into
   * `scratchDir`, and returns it. A second Ctrl-C makes the engine stop waiting for the
   * stage, but it still waits for protected work in flight.
   */
  protect<T>(work: Promise<T>): Promise<T>;
  /** A line for this stage's log file (never the terminal). */
  log(message: string): void;
  /** Progress for the terminal; cheap to call often (the engine throttles). */
  progress(update: ProgressUpdate): void;
}

/** What a stage ran on (e.g. compute backend, its version, threads): recorded in run.json. */
export type StageEnvironment = Readonly<Record<string, string | number>>;

export interface StageOutcome {
  readonly metrics?: Metrics;
  readonly environment?: StageEnvironment;
}

/** What a stage type's `report` hook gets: where the finished stage's files are in a run folder. */
export interface StageReportContext {
  readonly stageId: string;
  /** Output name -> absolute path in the run's artifact link (present: the stage finished). */
  readonly outputs: Readonly<Record<string, string>>;
  /** Input name -> absolute path of the upstream output, where that stage's artifact is in the run. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly metrics: Metrics;
}

export interface ExternalInput {
  /** Absolute path of the file or folder. */
  readonly path: string;
  /** What the path is and which param it comes from, e.g. "the MASD masks (source.root + /MASD_GT)". */
  readonly about: string;
  /**
   * The name it joins the fingerprint under, for a file the stage finds by a search
   * (e.g. `imagenet-weights:<file name>`), whose place does not matter. Default: the
   * path relative to the experiment file's folder.
   */
  readonly key?: string;
  /**
   * Its content digest (`sha256:<hex>`) when nothing is at `path` yet: a file the stage
   * will download and check against this sha256, so the key is the one it will have.
   */
  readonly digestIfAbsent?: string;
}

/**
 * What is known about a stage's result before the stages that read it run: flat named
 * values, like metrics (e.g. a data stage's item count per split). A stage that has
 * finished (ran or was reused) has its metrics; one that has not may still predict
 * facts from its params and its inputs' facts (a stage that mirrors the training images
 * knows the training split doubles). Which names mean what is the stage types' business;
 * the engine only passes facts along the graph.
 */
export type Facts = Readonly<Record<string, MetricValue>>;

export interface FactsContext<Params> {
  readonly stageId: string;
  readonly params: Params;
  /** Input name -> the facts of the upstream stage it reads ({} when nothing is known yet). */
  readonly inputs: Readonly<Record<string, Facts>>;
  /** The stage's own metrics when it has finished (ran or reused) in this run; null before. */
  readonly metrics: Metrics | null;
}

export type PreflightContext<Params> = Omit<FactsContext<Params>, "metrics">;

/** A reason a stage would fail, found before it (or anything expensive before it) runs. */
export interface PreflightProblem {
  /**
   * Where in the experiment the fix belongs, e.g. `stages.load.params.split` or
   * `stages.finetune1.params.batch_size`; default: the checked stage's entry.
   */
  readonly keyPath?: string;
  /** What is wrong and why, without naming the checked stage (the engine adds which stages need it). */
  readonly message: string;
  /** What to change, one way per line. */
  readonly hints?: readonly string[];
}

export interface StageType<Params = Record<string, unknown>> {
  /** The name used in `uses:`. */
  readonly name: string;
  /** Bump whenever the same inputs and params would now give different outputs. */
  readonly version: number;
  readonly description: string;
  /** Schema of `params` (an object schema; `default`s are filled in before `run`). */
  readonly paramsSchema: JsonSchema;
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** Each output is the file or folder `outDir/<name>` that `run` writes. */
  readonly outputs: Readonly<Record<string, PortSpec>>;
  /** Whether outputs depend on the experiment seed (then the seed joins the fingerprint). */
  readonly usesSeed?: boolean;
  /**
   * Whether `run` computes on the backend `settings.runtime.backend` names; the CLI then
   * makes sure the fastest one is ready (or says which it falls back to) before the run starts.
   */
  readonly usesBackend?: boolean;
  /**
   * Every file or folder outside the store that `run` reads (e.g. a dataset folder,
   * encoder weights): their content digests join the fingerprint, so a file the stage
   * reads but does not declare here is a stale cache waiting to happen. Absolute paths,
   * optionally with what the path is (`about`), which errors show when it cannot be read.
   * `connected` names the inputs the experiment connects (a file read only when an
   * input is absent need not be declared when it is there).
   */
  externalInputs?(params: Params, baseDir: string, connected: ReadonlySet<string>): (string | ExternalInput)[];
  run(ctx: StageContext<Params>): Promise<StageOutcome | void>;
  /**
   * What an interrupted attempt left in its `scratchDir` for the next attempt to resume
   * from, as words that follow "resumes after", e.g. `epoch 3 of 30`; null when nothing
   * usable is there. `status` shows it, and so does the line that starts the stage.
   * Called only when the folder exists; read little and import no heavy code.
   */
  resumePoint?(scratchDir: string, params: Params): Promise<string | null>;
  /**
   * The facts stages downstream may rely on (see `Facts`). Absent: the stage's metrics
   * once it has finished, nothing before. Called often: pure, cheap, no I/O; a throw
   * counts as "nothing known".
   */
  facts?(ctx: FactsContext<Params>): Facts;
  /**
   * Checks that can be made before the stage runs, from its params and its inputs'
   * facts: e.g. "the split I read is empty". The executor calls it for every stage that
   * has yet to run, each time before a stage starts, so a doomed run stops as soon as
   * the facts show it (right after a cheap data stage, not after hours of training),
   * with every problem at once; `status` and `run --dry-run` show the problems the
   * cached results already reveal. Return [] when the facts needed are not known yet.
   * Pure, cheap, no I/O; a throw counts as "no problem found".
   */
  preflight?(ctx: PreflightContext<Params>): readonly PreflightProblem[];
  /**
   * Sections for the run's report.html (curves, tables, images) read from the stage's
   * outputs. Called only for a stage whose artifact is in the run; a throw becomes a
   * note in the report, never a failed report. Import heavy code inside, as in `run`.
   */
  report?(ctx: StageReportContext): Promise<readonly ReportSection[]>;
}

/** Lets a module declare a typed stage type and still put it in an untyped registry. */
export function defineStageType<Params>(type: StageType<Params>): StageType {
  return type as unknown as StageType;
}
