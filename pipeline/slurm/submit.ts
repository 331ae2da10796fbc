/**
 * Submits one job with `sbatch --parsable`. The job's options and commands are written
 * to a batch script file first (e.g. next to its log), so a person can read exactly what
 * ran and resubmit it with `sbatch FILE`; only the dependencies, which name this run's
 * job ids, go on the command line.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SlurmError, shellQuote } from "./errors.js";
import { processSlurmRunner, runSlurmCommand, type SlurmRunner } from "./runner.js";

export interface SubmitOptions {
  /** Job name (`--job-name`), shown by squeue and sacct. */
  readonly name: string;
  /** The job's shell commands (bash), placed after the #SBATCH lines and exports. */
  readonly script: string;
  /** Where to write the batch script; its folder is created. */
  readonly scriptFile: string;
  /** Working directory of the job (`--chdir`). */
  readonly chdir: string;
  /** The job's stdout and stderr (`--output`); its folder is created. */
  readonly output: string;
  /**
   * Job ids that must complete successfully first (`--dependency=afterok:...`). Slurm
   * 22.05 takes an id it no longer knows (purged MinJobAge after it ended) as satisfied,
   * and cancels the job at once when a dependency already failed: pass only ids of jobs
   * still pending or running.
   */
  readonly dependencies?: readonly string[];
  readonly cpus?: number;
  /** Memory for the job, as sbatch takes it: `512M`, `4G` (`--mem`). */
  readonly mem?: string;
  /** Time limit as sbatch takes it: `30` (minutes), `2:00:00`, `1-00:00:00` (`--time`). */
  readonly time?: string;
  /** Generic resources, e.g. `gpu:1` (`--gres`). */
  readonly gres?: string;
  readonly partition?: string;
  readonly account?: string;
  /** More sbatch options, passed on the command line as they are. */
  readonly extraArgs?: readonly string[];
  /** Variables exported at the top of the script (on top of the submitting environment, which sbatch passes on). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SubmittedJob {
  readonly jobId: string;
  readonly scriptFile: string;
  /** The sbatch command line that submitted it. */
  readonly args: readonly string[];
}

function check(option: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) throw new SlurmError({ reason: "invalid-option", option, value, expected });
  return value;
}

/** A value for an #SBATCH line, double-quoted (sbatch strips the quotes); no newlines or double quotes. */
function directiveValue(option: string, value: string): string {
  return `"${check(option, value, /^[^\n"]+$/, "a non-empty value without newlines or double quotes")}"`;
}


/** The batch script text: shebang, #SBATCH directives, exports, then the commands. */
export function batchScript(options: SubmitOptions): string {
  const directives: [string, string][] = [
    ["--job-name", directiveValue("name", options.name)],
    ["--chdir", directiveValue("chdir", path.resolve(options.chdir))],
    ["--output", directiveValue("output", path.resolve(options.output))],
  ];
  if (options.cpus !== undefined) {
    if (!Number.isInteger(options.cpus) || options.cpus < 1) throw new SlurmError({ reason: "invalid-option", option: "cpus", value: String(options.cpus), expected: "a whole number of CPUs, 1 or more" });
    directives.push(["--cpus-per-task", String(options.cpus)]);
  }
  if (options.mem !== undefined) directives.push(["--mem", check("mem", options.mem, /^\d+[KMGT]?$/i, "a size such as 512M or 4G")]);
  if (options.time !== undefined) directives.push(["--time", check("time", options.time, /^(\d+-)?\d+(:\d+){0,2}$/, "minutes or [D-]HH:MM:SS, e.g. 30 or 2:00:00")]);
  if (options.gres !== undefined) directives.push(["--gres", directiveValue("gres", options.gres)]);
  if (options.partition !== undefined) directives.push(["--partition", directiveValue("partition", options.partition)]);
  if (options.account !== undefined) directives.push(["--account", directiveValue("account", options.account)]);
  const exports = Object.entries(options.env ?? {}).map(([key, value]) => `export ${check("env", key, /^[A-Za-z_][A-Za-z0-9_]*$/, "a variable name")}=${shellQuote(value)}`);
  return [
    "#!/bin/bash",
    ...directives.map(([option, value]) => `#SBATCH ${option}=${value}`),
    ...(exports.length > 0 ? ["", ...exports] : []),
    "",
    options.script.trimEnd(),
    "",
  ].join("\n");
}

/** Writes the batch script and submits it; resolves to the new job's id. */
export async function submitJob(options: SubmitOptions, runner: SlurmRunner = processSlurmRunner): Promise<SubmittedJob> {
  const text = batchScript(options);
  await mkdir(path.dirname(options.scriptFile), { recursive: true });
  // A job whose --output folder is missing fails without any log to say why.
  await mkdir(path.dirname(path.resolve(options.output)), { recursive: true });
  await writeFile(options.scriptFile, text, { mode: 0o755 });
  const dependencies = (options.dependencies ?? []).map((id) => check("dependencies", id, /^\d+(_\d+)?$/, "a job id"));
  const args = [
    "--parsable",
    // A job whose dependency failed is cancelled instead of pending forever (reason DependencyNeverSatisfied).
    ...(dependencies.length > 0 ? [`--dependency=afterok:${dependencies.join(":")}`, "--kill-on-invalid-dep=yes"] : []),
    ...(options.extraArgs ?? []),
    path.resolve(options.scriptFile),
  ];
  const stdout = await runSlurmCommand(runner, "sbatch", args);
  // `--parsable` prints `id` or `id;cluster`.
  const match = /^(\d+)(;\S+)?\s*$/.exec(stdout);
  if (!match?.[1]) throw new SlurmError({ reason: "unexpected-output", command: "sbatch", args, output: stdout, expected: "a job id (sbatch --parsable)" });
  return { jobId: match[1], scriptFile: path.resolve(options.scriptFile), args };
}
