/**
 * `--executor slurm`: every stage that has to run becomes one sbatch job running
 * `mu-pipe run-stage <job file>` against the shared store, with `--dependency=afterok`
 * on the jobs computing its inputs, so Slurm orders the graph. Stages already cached are
 * never submitted; work several runs share (a sweep's upstream) is one job.
 *
 * The submitting command then follows its jobs: it reads the job messages each job
 * appends to its output file (progress, run.json updates), asks squeue and then sacct
 * how jobs are doing, and records how each stage ended, Slurm's words included
 * (OUT_OF_MEMORY, TIMEOUT, ...). Job ids go into run.json and into the store's record of
 * jobs in flight (submissions.ts): the same command run again attaches to jobs still
 * queued or running instead of submitting them twice. Ctrl-C cancels the jobs.
 */
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SlurmResources, SlurmSettings } from "../config/execution-settings.js";
import { emitRunStart, type ExecuteResult, type ScheduledRun } from "../executor.js";
import type { ClusterJobEntry } from "../formats.js";
import { MessageApplier } from "../jobs/apply-message.js";
import { decodeJobMessage } from "../jobs/job-messages.js";
import { specFor, writeJobSpec } from "../jobs/job-spec.js";
import { recordReuse } from "../run-stage.js";
import { preflightProblems, recordPreflightStop } from "../preflight.js";
import { cancelJobs, submitJob } from "../slurm/index.js";
import { shellQuote } from "../slurm/errors.js";
import { describeEnd, jobStatuses, type JobStatus } from "./job-status.js";
import { OutputTail } from "./output-tail.js";
import { planJobs, type ClusterUnit, type PlannedRun } from "./plan-jobs.js";
import { readSubmission, removeSubmission, writeSubmission } from "./submissions.js";

export interface ClusterRequest {
  readonly runs: readonly ScheduledRun[];
  /** Submit and return without following the jobs. */
  readonly detach: boolean;
  /** The worker command; the job file's path is appended (node bin/mu-pipe.js run-stage). */
  readonly command: readonly string[];
  /** The jobs' working directory. */
  readonly cwd: string;
  readonly signal: AbortSignal;
  readonly hurry?: AbortSignal;
  /** Once a stage fails, cancel the jobs that have not started (sweeps' --fail-fast); running ones finish. */
  readonly failFast?: boolean;
  onRunEnd?(index: number, run: ScheduledRun, result: ExecuteResult): Promise<void> | void;
  now?(): number;
}

/** How often a job writes progress into its output file (a shared file system is not a pipe). */
const JOB_PROGRESS_MS = 2000;

/** A unit being followed. */
interface Followed {
  readonly unit: ClusterUnit;
  readonly job: ClusterJobEntry;
  readonly tail: OutputTail;
  readonly applier: MessageApplier;
  lastState: string | null;
  done: boolean;
}

export interface ClusterOutcome {
  readonly results: ExecuteResult[];
  /** Jobs submitted by this command, and jobs of earlier ones it attached to. */
  readonly submitted: readonly { readonly stageId: string; readonly jobId: string; readonly attached: boolean }[];
}

export async function runOnCluster(request: ClusterRequest): Promise<ClusterOutcome> {
  const now = request.now ?? Date.now;
  const started = now();
  for (const run of request.runs) emitRunStart(run);
  const plan = await planJobs(request.runs);
  // As a local run stops before training on what cached results already show (an empty
  // split), a run with such a problem submits nothing; work other runs share still goes.
  const stops = await preflightStops(plan.runs);
  const units = plan.units.filter((unit) => {
    unit.users.splice(0, unit.users.length, ...unit.users.filter((run) => !stops.has(run)));
    return unit.users.length > 0 && !stops.has(unit.owner);
  });
  const stopOf = (planned: PlannedRun, otherwise: (p: PlannedRun) => ExecuteResult): ExecuteResult => planned.stop ?? stops.get(planned.run) ?? otherwise(planned);
  const followed: Followed[] = [];
  const submitted: { stageId: string; jobId: string; attached: boolean }[] = [];
  try {
    for (const unit of units) {
      const entry = await submitOrAttach(unit, followed, request);
      submitted.push({ stageId: unit.stage.id, jobId: entry.job.id, attached: entry.job.submittedBy !== undefined });
      followed.push(entry);
      const attached = entry.job.submittedBy !== undefined;
      for (const run of unit.users) {
        await run.runDir.updateStage(unit.stage.id, { status: "pending", job: entry.job });
        run.sink.emit({ type: "stage-queued", id: unit.stage.id, job: entry.job.id, state: attached ? "ATTACHED" : "SUBMITTED", reason: attached ? `submitted earlier by ${entry.job.submittedBy ?? "?"}` : null });
      }
    }
  } catch (error) {
    // A refused sbatch: nothing half-submitted stays queued.
    await cancelJobs(followed.map((f) => f.job.id)).catch(() => undefined);
    const message = `could not submit: ${error instanceof Error ? error.message : String(error)}`;
    const results = await finishAll(plan.runs, request, now() - started, (p) => stopOf(p, () => ({ status: "failed", stageId: null, message })));
    return { results, submitted };
  }
  if (request.detach) {
    return { results: plan.runs.map((p) => stopOf(p, () => ({ status: "running", stageId: null, message: null }))), submitted };
  }
  const stoppedFast = await follow(followed, request);
  const results = await finishAll(plan.runs, request, now() - started, (p) => stopOf(p, (planned) => failFastResult(resultOf(planned), stoppedFast.get(planned.run))));
  return { results, submitted };
}

async function submitOrAttach(unit: ClusterUnit, earlier: readonly Followed[], request: ClusterRequest): Promise<Followed> {
  const { owner, stage } = unit;
  const settings = owner.graph.experiment.settings;
  const storeDir = settings.storeDir;
  const previous = await readSubmission(storeDir, unit.planKey);
  if (previous) {
    const status = (await jobStatuses([previous.jobId])).get(previous.jobId);
    if (status && !status.final) {
      const job: ClusterJobEntry = { executor: "slurm", id: previous.jobId, script: previous.script, output: previous.output, submittedAt: previous.submittedAt, submittedBy: previous.runId };
      return followedOf(unit, job);
    }
  }
  const dir = path.join(owner.runDir.dir, "jobs");
  await mkdir(dir, { recursive: true });
  const files = { spec: path.join(dir, `${stage.id}.json`), script: path.join(dir, `${stage.id}.sbatch`), output: path.join(dir, `${stage.id}.out`) };
  const resources = resourcesFor(settings.slurm, stage.id, stage.type.name);
  await writeJobSpec(
    files.spec,
    specFor(owner.graph.experiment, {
      stageId: stage.id,
      forced: unit.forced,
      reason: unit.reason,
      runDir: owner.runDir.dir,
      runId: owner.runDir.id,
      ...(resources.cpus !== undefined && stage.type.usesBackend === true && settings.runtime.threads === undefined ? { threads: resources.cpus } : {}),
    }),
  );
  const dependencies = unit.inputs.flatMap((input) => earlier.filter((f) => f.unit === input).map((f) => f.job.id));
  const submittedJob = await submitJob({
    name: `mu-pipe:${owner.graph.experiment.name}:${stage.id}`,
    script: `exec ${request.command.map(shellQuote).join(" ")} ${shellQuote(files.spec)}`,
    scriptFile: files.script,
    chdir: request.cwd,
    output: files.output,
    dependencies,
    ...(resources.cpus !== undefined ? { cpus: resources.cpus } : {}),
    ...(resources.mem !== undefined ? { mem: resources.mem } : {}),
    ...(resources.time !== undefined ? { time: resources.time } : {}),
    ...(resources.gres !== undefined ? { gres: resources.gres } : {}),
    ...(resources.partition !== undefined ? { partition: resources.partition } : {}),
    ...(settings.slurm.account !== undefined ? { account: settings.slurm.account } : {}),
    extraArgs: [...settings.slurm.extra, ...(resources.extra ?? [])],
    env: { MU_PIPE_PROGRESS_MS: String(JOB_PROGRESS_MS) },
  });
  const submittedAt = new Date().toISOString();
  const job: ClusterJobEntry = { executor: "slurm", id: submittedJob.jobId, script: files.script, output: files.output, submittedAt };
  await writeSubmission(storeDir, {
    version: 1,
    planKey: unit.planKey,
    jobId: job.id,
    stageId: stage.id,
    runId: owner.runDir.id,
    runDir: owner.runDir.dir,
    script: files.script,
    output: files.output,
    submittedAt,
    hostname: os.hostname(),
  });
  return followedOf(unit, job);
}

function followedOf(unit: ClusterUnit, job: ClusterJobEntry): Followed {
  return { unit, job, tail: new OutputTail(job.output), applier: new MessageApplier(unit.owner), lastState: null, done: false };
}

/** defaults <- stage type <- stage id; the partition from settings.slurm unless a stage names its own. */
export function resourcesFor(slurm: SlurmSettings, stageId: string, typeName: string): SlurmResources {
  return { ...(slurm.partition !== undefined ? { partition: slurm.partition } : {}), ...slurm.defaults, ...slurm.stages[typeName], ...slurm.stages[stageId] };
}

/** How following goes: Ctrl-C, the units that did not succeed, and --fail-fast's cancellations. */
interface FollowContext {
  cancelled: boolean;
  readonly failedUnits: Set<ClusterUnit>;
  /** The first stage that failed by itself (not for an upstream, not cancelled): `<run> failed at <stage>`. */
  firstFailure: string | null;
  /** Jobs --fail-fast cancelled before they started, the units they computed, and why. */
  readonly fastCancelled: Set<string>;
  readonly fastUnits: Set<ClusterUnit>;
  fastReason: string | null;
  /** Runs with a stage --fail-fast kept from running: the stage and why. */
  readonly stoppedFast: Map<ScheduledRun, { stageId: string; reason: string }>;
}

/**
 * Reads job output and asks Slurm until every job has ended; Ctrl-C cancels them, and
 * with --fail-fast the first failure cancels those not started. Returns the runs
 * --fail-fast stopped.
 */
async function follow(followed: Followed[], request: ClusterRequest): Promise<ReadonlyMap<ScheduledRun, { stageId: string; reason: string }>> {
  const poll = Math.max(200, (request.runs[0]?.graph.experiment.settings.slurm.pollSeconds ?? 5) * 1000);
  const context: FollowContext = { cancelled: false, failedUnits: new Set(), firstFailure: null, fastCancelled: new Set(), fastUnits: new Set(), fastReason: null, stoppedFast: new Map() };
  for (;;) {
    const live = followed.filter((f) => !f.done);
    if (live.length === 0) return context.stoppedFast;
    if (request.signal.aborted && !context.cancelled) {
      context.cancelled = true;
      for (const run of request.runs) run.sink.emit({ type: "run-stopping", stageId: null, hurry: false });
      await cancelJobs(live.map((f) => f.job.id)).catch(() => undefined);
    }
    if (request.hurry?.aborted) {
      for (const f of live) await conclude(f, null, context);
      return context.stoppedFast;
    }
    for (const f of live) await readMessages(f, false);
    const statuses = await jobStatuses(live.map((f) => f.job.id)).catch(() => new Map<string, JobStatus>());
    for (const f of live) {
      const status = statuses.get(f.job.id) ?? null;
      if (status && !status.final && status.phase === "pending" && status.state !== f.lastState) {
        f.lastState = status.state;
        f.unit.owner.sink.emit({ type: "stage-queued", id: f.unit.stage.id, job: f.job.id, state: status.state, reason: status.reason });
      }
      if (status?.final) {
        await readMessages(f, true);
        await conclude(f, status, context);
      }
    }
    if (request.failFast && context.firstFailure !== null && context.fastReason === null && !context.cancelled) {
      // As a local sweep opens no further run: what has not started is cancelled, what runs finishes.
      context.fastReason = `not run: --fail-fast: ${context.firstFailure}`;
      const waiting = followed.filter((f) => !f.done && statuses.get(f.job.id)?.phase !== "running");
      for (const f of waiting) context.fastCancelled.add(f.job.id);
      await cancelJobs(waiting.map((f) => f.job.id)).catch(() => undefined);
      continue; // their end is read at once, not after a poll's sleep
    }
    await sleep(poll, undefined, { signal: context.cancelled ? request.hurry : request.signal }).catch(() => undefined);
  }
}

/** A run --fail-fast stopped did not succeed, though none of its own stages failed. */
function failFastResult(result: ExecuteResult, stopped: { stageId: string; reason: string } | undefined): ExecuteResult {
  if (stopped === undefined || result.status !== "succeeded") return result;
  return { status: "failed", stageId: stopped.stageId, message: stopped.reason };
}

async function readMessages(f: Followed, end: boolean): Promise<void> {
  for (const line of await f.tail.read(end)) {
    const message = decodeJobMessage(line);
    if (message) f.applier.push(message);
  }
  await f.applier.settled();
}

/** Records how a unit's job ended in every run that needed it. */
async function conclude(f: Followed, status: JobStatus | null, context: FollowContext): Promise<void> {
  f.done = true;
  const { unit, job } = f;
  const outcome = f.applier.outcome;
  const stageId = unit.stage.id;
  await removeSubmission(unit.owner.graph.experiment.settings.storeDir, unit.planKey, job.id);
  if (outcome?.kind === "done") {
    for (const run of unit.users.slice(1)) {
      const record = await run.store.lookup(outcome.key);
      if (record) await recordReuse(stageId, record, `computed by Slurm job ${job.id} for ${unit.owner.runDir.id}`, { store: run.store, runDir: run.runDir, sink: run.sink });
    }
    return;
  }
  context.failedUnits.add(unit);
  // An input --fail-fast cancelled is not a failure of this run's: its stages say --fail-fast.
  const upstreamFailed = unit.inputs.find((u) => context.failedUnits.has(u) && !context.fastUnits.has(u));
  const fastReason = context.fastReason;
  if (!upstreamFailed && fastReason !== null && context.fastCancelled.has(job.id) && outcome === null) {
    context.fastUnits.add(unit);
    for (const run of unit.users) {
      await run.runDir.updateStage(stageId, { status: "skipped", reason: fastReason });
      run.sink.emit({ type: "stage-skipped", id: stageId, reason: fastReason });
      if (!context.stoppedFast.has(run)) context.stoppedFast.set(run, { stageId, reason: fastReason });
    }
    return;
  }
  if (!upstreamFailed && !context.cancelled && outcome?.kind !== "interrupted") context.firstFailure ??= `${unit.owner.runDir.id} failed at ${stageId}`;
  for (const [index, run] of unit.users.entries()) {
    const reported = index === 0 && outcome !== null; // the job recorded itself in its owner run
    if (reported) continue;
    if (outcome?.kind === "interrupted" || (context.cancelled && !f.lastState?.startsWith("RUN"))) {
      if (upstreamFailed || status?.state === "CANCELLED" || status === null) {
        const reason = upstreamFailed ? `not run: the run stopped at ${upstreamFailed.stage.id}` : "not run: the run was interrupted";
        await run.runDir.updateStage(stageId, { status: context.cancelled ? "interrupted" : "skipped", reason });
        run.sink.emit(context.cancelled ? { type: "stage-interrupted", id: stageId } : { type: "stage-skipped", id: stageId, reason });
        continue;
      }
    }
    if (upstreamFailed && status?.state === "CANCELLED") {
      const reason = `not run: the run stopped at ${upstreamFailed.stage.id}`;
      await run.runDir.updateStage(stageId, { status: "skipped", reason });
      run.sink.emit({ type: "stage-skipped", id: stageId, reason });
      continue;
    }
    const message =
      outcome?.kind === "failed"
        ? `its Slurm job ${job.id} (for ${unit.owner.runDir.id}) failed: ${outcome.message}`
        : status
          ? `Slurm job ${job.id} ended ${describeEnd(status)}`
          : `Slurm job ${job.id} was cancelled`;
    await run.runDir.updateStage(stageId, { status: context.cancelled ? "interrupted" : "failed", error: message, finishedAt: new Date().toISOString() });
    run.sink.emit(context.cancelled ? { type: "stage-interrupted", id: stageId } : { type: "stage-failed", id: stageId, message, logFile: job.output });
  }
}

/** Per run whose planned stages would fail on the facts of its cached ones: the stop, recorded in the run. */
async function preflightStops(runs: readonly PlannedRun[]): Promise<Map<ScheduledRun, ExecuteResult>> {
  const stops = new Map<ScheduledRun, ExecuteResult>();
  for (const { run, units, stop } of runs) {
    if (stop || units.size === 0) continue;
    const pending = new Set(units.keys());
    const problems = preflightProblems(run.graph, pending, run.runDir.stageMetrics());
    if (problems.length === 0) continue;
    const before = run.graph.stages.find((s) => pending.has(s.id))?.id ?? "";
    const preflight = { before, problems };
    await recordPreflightStop(preflight, run.graph, run.runDir, run.sink);
    stops.set(run, { status: "failed", stageId: problems[0]?.stageIds[0] ?? before, message: "preflight checks failed", preflight });
  }
  return stops;
}

async function finishAll(runs: readonly PlannedRun[], request: ClusterRequest, durationMs: number, result: (run: PlannedRun) => ExecuteResult): Promise<ExecuteResult[]> {
  const results: ExecuteResult[] = [];
  for (const [index, planned] of runs.entries()) {
    const outcome = result(planned);
    const { run } = planned;
    await run.runDir.finish(outcome.status);
    run.sink.emit({ type: "run-end", runId: run.runDir.id, runDir: run.runDir.dir, status: outcome.status, durationMs });
    results.push(outcome);
    await request.onRunEnd?.(index, run, outcome);
  }
  return results;
}

/** A run's status from its stages as recorded. */
function resultOf(planned: PlannedRun): ExecuteResult {
  const stages = planned.run.runDir.stages();
  const failed = stages.find((s) => s.status === "failed");
  if (failed) return { status: "failed", stageId: failed.id, message: failed.error ?? "failed" };
  const interrupted = stages.find((s) => s.status === "interrupted" || s.status === "pending" || s.status === "running");
  if (interrupted) return { status: "interrupted", stageId: interrupted.id, message: `interrupted during stage ${interrupted.id}` };
  return { status: "succeeded", stageId: null, message: null };
}
