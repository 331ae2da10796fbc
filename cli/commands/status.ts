import { selectStages } from "../../pipeline/graph.js";
import { formatDiagnostic } from "../../pipeline/config/format-diagnostic.js";
import type { Diagnostic } from "../../pipeline/failure.js";
import { planRun, type StagePlan } from "../../pipeline/plan.js";
import { planProblems } from "../../pipeline/preflight.js";
import { planLines } from "../output/plan-text.js";
import { previousFingerprints } from "../../pipeline/run-history.js";
import { parseCommandArgs, requirePositionals } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { openExperiment } from "../experiment-session.js";
import { openExperimentStore } from "../store-session.js";
import { openSweep, type SweepSession } from "../sweep-session.js";
import type { Selection } from "../../pipeline/graph.js";

const usage = `usage: mu-pipe status <experiment.yaml> [--set key=value]... [--sweep key=v1,v2]... [--cv key=K] [--only S]... [--from S] [--until S] [--format text|json]

For each stage: whether a run would reuse its cached result or run it, and why.
For a sweep: the same for every combination.`;

const options = {
  set: { type: "string", multiple: true },
  only: { type: "string", multiple: true },
  from: { type: "string" },
  until: { type: "string" },
  format: { type: "string", default: "text" },
  sweep: { type: "string", multiple: true },
  cv: { type: "string", multiple: true },
} as const;

export function printPlan(plans: readonly StagePlan[], io: CommandIO): void {
  for (const line of planLines(plans)) io.out(line);
}

/** Problems the cached results already show for stages that will run (pipeline/preflight.ts). */
export function printPlanProblems(problems: readonly Diagnostic[], io: CommandIO): void {
  if (problems.length === 0) return;
  io.out("");
  for (const problem of problems) {
    io.out(formatDiagnostic(problem));
    io.out("");
  }
  io.out(`a run would stop early: ${problems.length} problem${problems.length === 1 ? "" : "s"} above (from the cached results)`);
}

export const statusCommand: Command = {
  name: "status",
  summary: "what a run would do",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const [file] = requirePositionals(positionals, 1, "the experiment file", usage);
    const sweep = await openSweep(file ?? "", values, io);
    if (sweep) return printSweepStatus(sweep, { only: values.only, from: values.from, until: values.until }, values.format === "json", io);
    const { graph, config } = await openExperiment(file ?? "", values.set ?? [], io);
    const selected = selectStages(graph, { only: values.only, from: values.from, until: values.until });
    const { store, digestExternal, saveDigestCache } = await openExperimentStore(config.settings.storeDir);
    const previous = previousFingerprints(config.settings.runsDir, config.name, store, null);
    const plans = await planRun(graph, selected, new Set(), { store, digestExternal, previousFingerprint: previous });
    const problems = await planProblems(graph, plans, store);
    await saveDigestCache();
    if (values.format === "json") io.out(JSON.stringify(plans, null, 2));
    else {
      printPlan(plans, io);
      printPlanProblems(problems, io);
      await printJobsInFlight(config.settings.storeDir, config.name, io);
    }
    return 0;
  },
};

/**
 * Stages of this experiment that Slurm jobs are computing right now (after `--detach`,
 * or from a command still following them): `run` again would attach to these.
 */
async function printJobsInFlight(storeDir: string, experiment: string, io: CommandIO): Promise<void> {
  const { listSubmissions } = await import("../../pipeline/cluster/submissions.js");
  const mine = (await listSubmissions(storeDir)).filter((s) => s.runId.endsWith(`-${experiment}`) || s.runId.includes(`-${experiment}[`));
  if (mine.length === 0) return;
  const { jobStatuses } = await import("../../pipeline/cluster/job-status.js");
  const statuses = await jobStatuses(mine.map((s) => s.jobId)).catch(() => null);
  const live = mine.filter((s) => statuses === null || (statuses.get(s.jobId) !== undefined && statuses.get(s.jobId)?.final === false));
  if (live.length === 0) return;
  io.out("\non Slurm now (run the same command to follow them; mu-pipe cancel <run> to stop them):");
  for (const s of live) {
    const status = statuses?.get(s.jobId);
    io.out(`  ${s.stageId}  Slurm job ${s.jobId} ${status ? `${status.state}${status.reason ? ` (${status.reason})` : ""}` : "(Slurm cannot be asked)"}  for ${s.runId}`);
  }
}

async function printSweepStatus(sweep: SweepSession, selection: Selection, json: boolean, io: CommandIO): Promise<number> {
  const { planSweep } = await import("../sweep-plan.js");
  const { sweepPlanText } = await import("../output/sweep-plan-text.js");
  const sessions = new Map<string, ReturnType<typeof openExperimentStore>>();
  const open = (dir: string): ReturnType<typeof openExperimentStore> => {
    const session = sessions.get(dir) ?? openExperimentStore(dir);
    sessions.set(dir, session);
    return session;
  };
  const plans = await planSweep(sweep.loaded, sweep.registry, selection, new Set(), open);
  for (const session of sessions.values()) await (await session).saveDigestCache();
  io.out(json ? JSON.stringify(plans, null, 2) : sweepPlanText(sweep.loaded, plans));
  return 0;
}
