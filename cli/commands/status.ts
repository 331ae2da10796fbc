import { selectStages } from "../../pipeline/graph.js";
import { formatDiagnostic } from "../../pipeline/config/format-diagnostic.js";
import type { Diagnostic } from "../../pipeline/failure.js";
import { planRun, type StagePlan } from "../../pipeline/plan.js";
import { planProblems } from "../../pipeline/preflight.js";
import { previousFingerprints } from "../../pipeline/run-history.js";
import { parseCommandArgs, requirePositionals } from "../args.js";
import type { Command, CommandIO } from "../command.js";
import { openExperiment } from "../experiment-session.js";
import { openExperimentStore } from "../store-session.js";

const usage = `usage: mu-pipe status <experiment.yaml> [--set key=value]... [--only S]... [--from S] [--until S] [--format text|json]

For each stage: whether a run would reuse its cached result or run it, and why.`;

const options = {
  set: { type: "string", multiple: true },
  only: { type: "string", multiple: true },
  from: { type: "string" },
  until: { type: "string" },
  format: { type: "string", default: "text" },
} as const;

const ACTION_WORDS: Record<StagePlan["action"], string> = {
  reuse: "reuse",
  run: "will run",
  skip: "skip",
  blocked: "blocked",
};

export function printPlan(plans: readonly StagePlan[], io: CommandIO): void {
  const idWidth = Math.max(5, ...plans.map((p) => p.id.length));
  const actionWidth = Math.max(...Object.values(ACTION_WORDS).map((w) => w.length));
  for (const plan of plans) {
    const [first, ...rest] = [...plan.reasons, ...(plan.resume ? [`resumes after ${plan.resume}`] : [])];
    io.out(`${plan.id.padEnd(idWidth)}  ${ACTION_WORDS[plan.action].padEnd(actionWidth)}  ${first ?? ""}`);
    for (const reason of rest) io.out(`${"".padEnd(idWidth)}  ${"".padEnd(actionWidth)}  ${reason}`);
  }
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
    }
    return 0;
  },
};
