/**
 * Where and how widely an experiment's stages run: `settings.jobs`, `settings.executor`
 * and `settings.slurm`. None of it is in a fingerprint: the same stage computed on a
 * laptop or on a cluster node is the same result.
 */
import type { JsonSchema } from "../stage.js";

export const EXECUTORS = ["local", "slurm"] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

/** What one Slurm job asks for; every field optional, merged defaults <- stage type <- stage id. */
export interface SlurmResources {
  readonly cpus?: number;
  /** Slurm's --mem: a number with an optional K/M/G/T suffix. */
  readonly mem?: string;
  /** Slurm's --time: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS. */
  readonly time?: string;
  /** Slurm's --gres, e.g. gpu:1. */
  readonly gres?: string;
  readonly partition?: string;
  /** Further sbatch flags, passed as they are (e.g. --qos=high). */
  readonly extra?: readonly string[];
}

export interface SlurmSettings {
  readonly partition?: string;
  readonly account?: string;
  readonly defaults: SlurmResources;
  /** Stage type name or stage id -> resources; a stage id wins over its type. */
  readonly stages: Readonly<Record<string, SlurmResources>>;
  /** sbatch flags for every job. */
  readonly extra: readonly string[];
  /** How often the submitting command asks Slurm about its jobs, in seconds. */
  readonly pollSeconds: number;
}

export const DEFAULT_POLL_SECONDS = 5;

const SBATCH_FLAG = "^--?[A-Za-z]";
const MEM_PATTERN = "^[0-9]+[KMGT]?$";
const TIME_PATTERN = "^([0-9]+|[0-9]+:[0-5][0-9]|[0-9]+:[0-5][0-9]:[0-5][0-9]|[0-9]+-[0-9]+(:[0-5][0-9](:[0-5][0-9])?)?)$";

function resourcesSchema(description: string): JsonSchema {
  return {
    type: "object",
    additionalProperties: false,
    description,
    properties: {
      cpus: { type: "integer", minimum: 1, description: "CPUs per task (--cpus-per-task); also the threads a training stage uses." },
      mem: { type: "string", pattern: MEM_PATTERN, description: "Memory (--mem), e.g. 8G or 16000M." },
      time: { type: "string", pattern: TIME_PATTERN, description: "Time limit (--time): minutes, MM:SS, HH:MM:SS or D-HH:MM:SS." },
      gres: { type: "string", minLength: 1, description: "Generic resources (--gres), e.g. gpu:1." },
      partition: { type: "string", minLength: 1, description: "Partition for these jobs (--partition)." },
      extra: { type: "array", items: { type: "string", pattern: SBATCH_FLAG }, description: "Further sbatch flags, e.g. [--qos=high]." },
    },
  };
}

export function executionSettingsSchema(): Record<string, JsonSchema> {
  return {
    jobs: { type: "integer", minimum: 1, default: 1, description: "How many stages (and sweep runs) may run at once, each in a process of its own (--jobs)." },
    executor: {
      type: "string",
      enum: [...EXECUTORS],
      default: "local",
      description: "local: stages run on this machine; slurm: each stage that has to run becomes one sbatch job (--executor).",
    },
    slurm: {
      type: "object",
      additionalProperties: false,
      default: {},
      description: "Resources of the Slurm jobs (with executor: slurm).",
      properties: {
        partition: { type: "string", minLength: 1, description: "Partition for every job (--partition)." },
        account: { type: "string", minLength: 1, description: "Account charged (--account)." },
        defaults: { ...resourcesSchema("What every job asks for, unless its stage type or id says otherwise."), default: {} },
        stages: {
          type: "object",
          default: {},
          description: "Stage type name (e.g. finetune) or stage id (e.g. finetune2) -> its resources; an id wins over its type.",
          additionalProperties: resourcesSchema("Resources of this stage type or stage."),
        },
        extra: { type: "array", default: [], items: { type: "string", pattern: SBATCH_FLAG }, description: "sbatch flags for every job." },
        poll_seconds: { type: "number", minimum: 0.2, default: DEFAULT_POLL_SECONDS, description: "How often the submitting command asks Slurm about its jobs." },
      },
    },
  };
}

export interface ValidSlurmSection {
  readonly partition?: string;
  readonly account?: string;
  readonly defaults: SlurmResources;
  readonly stages: Readonly<Record<string, SlurmResources>>;
  readonly extra: readonly string[];
  readonly poll_seconds: number;
}

export function slurmSettingsOf(section: ValidSlurmSection): SlurmSettings {
  return {
    ...(section.partition !== undefined ? { partition: section.partition } : {}),
    ...(section.account !== undefined ? { account: section.account } : {}),
    defaults: section.defaults,
    stages: section.stages,
    extra: section.extra,
    pollSeconds: section.poll_seconds,
  };
}
