/**
 * What a worker process needs to run one stage of a run: the validated experiment (as
 * plain data), which stage, where the run folder and store are, and how many threads it
 * may use. Written as `<run>/jobs/<stage>.json` before the worker starts, so a Slurm
 * job on another node reads the same file from the shared file system and a user can
 * see (and rerun) exactly what a job was given.
 */
import { promises as fs } from "node:fs";
import type { ExperimentConfig } from "../config/experiment.js";
import { MuPipeError } from "../failure.js";
import { writeFileAtomic } from "../store/atomic-file.js";

export interface StageJobSpec {
  readonly version: 1;
  readonly experiment: Omit<ExperimentConfig, "locate">;
  readonly stageId: string;
  /** Run it even when the store has it (--force). */
  readonly forced: boolean;
  /** Why it runs, as the submitting command decided (shown and recorded by the worker). */
  readonly reason: string;
  /** The run folder the stage belongs to; its log goes to `<runDir>/logs/<stage>.log`. */
  readonly runDir: string;
  readonly runId: string;
  /** Threads this worker may use (the cores divided between parallel jobs); absent: the experiment's setting. */
  readonly threads?: number;
}

export function specFor(config: ExperimentConfig, fields: Omit<StageJobSpec, "version" | "experiment">): StageJobSpec {
  const { locate: _locate, ...experiment } = config;
  return { version: 1, experiment, ...fields };
}

export async function writeJobSpec(file: string, spec: StageJobSpec): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(spec, null, 2)}\n`);
}

export async function readJobSpec(file: string): Promise<StageJobSpec> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (error) {
    throw new MuPipeError({ reason: "io", path: file, message: `cannot read the job file: ${error instanceof Error ? error.message : String(error)}` });
  }
  const spec = value as Partial<StageJobSpec> | null;
  if (spec?.version !== 1) throw new MuPipeError({ reason: "io", path: file, message: `not a mu-pipe job file of a version this mu-pipe knows (version ${String(spec?.version)})` });
  if (typeof spec.stageId !== "string" || typeof spec.runDir !== "string" || typeof spec.experiment !== "object") {
    throw new MuPipeError({ reason: "io", path: file, message: "the job file lacks stageId, runDir or experiment" });
  }
  return spec as StageJobSpec;
}

/** The experiment of a spec as the engine takes it (positions in the file are not kept). */
export function experimentOf(spec: StageJobSpec): ExperimentConfig {
  const { experiment } = spec;
  const runtime = spec.threads === undefined ? experiment.settings.runtime : { ...experiment.settings.runtime, threads: spec.threads };
  return { ...experiment, settings: { ...experiment.settings, runtime }, locate: () => null };
}
