/**
 * One folder per invocation: `runs/<UTC timestamp>-<experiment>/` with the resolved
 * config, run.json (kept current as stages finish), metrics.json, per-stage logs and a
 * link to each stage's artifact. `runs/latest` points at the newest.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { processStartTime, writeFileAtomic } from "./store/atomic-file.js";
import { replaceSymlink } from "./symlink.js";
import type { RunMetrics, RunRecord, RunStatus, RunSweepEntry, StageRunEntry } from "./formats.js";
import type { RunRecorder, StageChange } from "./run-recorder.js";
import type { Metrics } from "./stage.js";

export const RUN_FILE = "run.json";
export const METRICS_FILE = "metrics.json";
export const CONFIG_FILE = "config.yaml";
export const LATEST_LINK = "latest";

export interface RunDirectoryOptions {
  readonly runsDir: string;
  readonly experiment: string;
  readonly configFile: string;
  readonly resolvedConfig: Readonly<Record<string, unknown>>;
  readonly argv: readonly string[];
  readonly stages: readonly { readonly id: string; readonly uses: string }[];
  /** For one combination of a sweep: the folder is named `<stamp>-<experiment>[<label>]`. */
  readonly sweep?: RunSweepEntry;
  /** Set when the stages run as cluster jobs. */
  readonly executor?: { readonly kind: "slurm"; readonly detached: boolean };
  readonly now?: Date;
}

export class RunDirectory implements RunRecorder {
  private record: RunRecord;
  private readonly metrics: Record<string, Metrics> = {};

  private constructor(
    readonly dir: string,
    record: RunRecord,
  ) {
    this.record = record;
  }

  get id(): string {
    return this.record.id;
  }

  /** Claims a fresh folder (mkdir fails if another process took the name: try a suffix). */
  static async create(options: RunDirectoryOptions): Promise<RunDirectory> {
    const now = options.now ?? new Date();
    await fs.mkdir(options.runsDir, { recursive: true });
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const label = options.sweep ? `[${options.sweep.label}]` : "";
    let id = `${stamp}-${options.experiment}${label}`;
    for (let suffix = 2; ; suffix += 1) {
      try {
        await fs.mkdir(path.join(options.runsDir, id));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        id = `${stamp}-${options.experiment}-${suffix}${label}`;
      }
    }
    const dir = path.join(options.runsDir, id);
    await fs.mkdir(path.join(dir, "logs"));
    await fs.mkdir(path.join(dir, "artifacts"));
    await writeFileAtomic(path.join(dir, CONFIG_FILE), `# Resolved from ${options.configFile}\n${stringify(options.resolvedConfig)}`);
    const record: RunRecord = {
      version: 1,
      id,
      experiment: options.experiment,
      configFile: options.configFile,
      status: "running",
      startedAt: now.toISOString(),
      finishedAt: null,
      argv: options.argv,
      pid: process.pid,
      hostname: os.hostname(),
      processStart: processStartTime(process.pid),
      ...(options.sweep ? { sweep: options.sweep } : {}),
      ...(options.executor ? { executor: options.executor } : {}),
      stages: options.stages.map((s) => ({
        id: s.id,
        uses: s.uses,
        status: "pending",
        reason: "",
        fingerprintKey: null,
        artifactDigest: null,
        startedAt: null,
        finishedAt: null,
        durationMs: null,
        error: null,
      })),
    };
    const run = new RunDirectory(dir, record);
    await run.save();
    await replaceSymlink(id, path.join(options.runsDir, LATEST_LINK));
    return run;
  }

  /** Each stage's entry as recorded so far. */
  stages(): readonly StageRunEntry[] {
    return this.record.stages;
  }

  /**
   * An existing run folder, to record what happened after the process that owned it
   * ended (`mu-pipe cancel` of a detached Slurm run). Its metrics file is left as it is.
   */
  static async open(dir: string): Promise<RunDirectory> {
    const record = JSON.parse(await fs.readFile(path.join(dir, RUN_FILE), "utf8")) as RunRecord;
    return new RunDirectory(dir, record);
  }

  logFile(stageId: string): string {
    return path.join(this.dir, "logs", `${stageId}.log`);
  }

  async updateStage(stageId: string, change: StageChange): Promise<void> {
    this.record = {
      ...this.record,
      stages: this.record.stages.map((s) => (s.id === stageId ? { ...s, ...change } : s)),
    };
    await this.save();
  }

  async setMetrics(stageId: string, metrics: Metrics): Promise<void> {
    this.metrics[stageId] = metrics;
    const file: RunMetrics = { version: 1, stages: this.metrics };
    await writeFileAtomic(path.join(this.dir, METRICS_FILE), `${JSON.stringify(file, null, 2)}\n`);
  }

  /** The metrics of every stage that finished (ran or was reused) in this run so far. */
  stageMetrics(): Readonly<Record<string, Metrics>> {
    return { ...this.metrics };
  }

  /** A relative link, so a runs folder can be moved together with its store. */
  async linkArtifact(stageId: string, artifactDir: string): Promise<void> {
    const link = path.join(this.dir, "artifacts", stageId);
    await replaceSymlink(path.relative(path.dirname(link), artifactDir), link);
  }

  async finish(status: RunStatus, finishedAt = new Date()): Promise<void> {
    this.record = { ...this.record, status, finishedAt: finishedAt.toISOString() };
    await this.save();
  }

  private async save(): Promise<void> {
    await writeFileAtomic(path.join(this.dir, RUN_FILE), `${JSON.stringify(this.record, null, 2)}\n`);
  }
}
