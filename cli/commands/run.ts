import { existsSync } from "node:fs";
import path from "node:path";

import type { Logger } from "../../pipeline/events.js";
import { execute, type ExecuteResult, type ScheduledRun } from "../../pipeline/executor.js";
import { localLauncher, workerCommand } from "../local-launcher.js";
import { detachedText, parseExecutor, requireSlurm } from "../cluster-options.js";
import { MuPipeError } from "../../pipeline/failure.js";
import { selectStages } from "../../pipeline/graph.js";
import { previousFingerprints } from "../../pipeline/run-history.js";
import { RunDirectory } from "../../pipeline/run-directory.js";
import { parseCommandArgs, requirePositionals } from "../args.js";
import type { Command } from "../command.js";
import { openExperiment } from "../experiment-session.js";
import { relativePath } from "../output/format.js";
import { createLogger } from "../output/logger.js";
import { openExperimentStore } from "../store-session.js";
import { planProblems } from "../../pipeline/preflight.js";
import { printPlan, printPlanProblems } from "./status.js";
import { withFilledParams } from "../resolved-config.js";
import { exitSoonIfHurried, listenForStop } from "../stop-signals.js";
import type { StageRegistry } from "../../pipeline/registry.js";

const usage = `usage: mu-pipe run <experiment.yaml> [options]

  --set key.path=value   override a value (repeatable), e.g. --set stages.finetune2.params.lr=3e-5
  --only <stage>         run just this stage (repeatable); its inputs must be cached
  --from <stage>         run this stage and everything downstream of it
  --until <stage>        run this stage and everything upstream of it
  --force <stage>        run this stage even if a cached result exists (repeatable)
  --force-all            run every selected stage
  --dry-run              show what would run, and why, without running anything
  --jobs <N>             run up to N stages (and sweep runs) at once, each in a process
                         of its own, the cores shared between them (default: settings.jobs, 1)
  --executor local|slurm run here, or submit each stage that has to run as a Slurm job
                         (default: settings.executor, local); see README, "On a cluster"
  --detach               with slurm: submit and return; \`mu-pipe show\` follows the jobs,
                         the same command again re-attaches, \`mu-pipe cancel\` cancels

Sweeps (see README, "Sweeps and cross-validation"):
  --sweep key.path=v1,v2 one run per value (repeatable: every combination), e.g.
                         --sweep stages.finetune2.params.optimizer.lr=1e-3,1e-4
  --cv key.path=K        K-fold cross-validation over the param object at key.path
                         (it takes folds and fold), e.g. --cv stages.load.params.split=5
  --yes                  run a sweep of more than 64 runs
  --fail-fast            stop a sweep at its first failed run (default: run the others)`;

const options = {
  set: { type: "string", multiple: true },
  only: { type: "string", multiple: true },
  from: { type: "string" },
  until: { type: "string" },
  force: { type: "string", multiple: true },
  "force-all": { type: "boolean" },
  "dry-run": { type: "boolean" },
  sweep: { type: "string", multiple: true },
  cv: { type: "string", multiple: true },
  yes: { type: "boolean" },
  "fail-fast": { type: "boolean" },
  jobs: { type: "string" },
  executor: { type: "string" },
  detach: { type: "boolean" },
} as const;

export const runCommand: Command = {
  name: "run",
  summary: "run an experiment",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const jobsFlag = parseJobs(values.jobs, usage);
    const executorFlag = parseExecutor(values.executor, usage);
    const [file] = requirePositionals(positionals, 1, "the experiment file", usage);
    const { openSweep } = await import("../sweep-session.js");
    const sweep = await openSweep(file ?? "", values, io);
    if (sweep) {
      const { runSweep } = await import("../sweep-run.js");
      const selection = { only: values.only, from: values.from, until: values.until };
      const force = values["force-all"] ? "all" : new Set(values.force ?? []);
      return runSweep(sweep.loaded, sweep.registry, {
        selection,
        force,
        dryRun: values["dry-run"] ?? false,
        yes: values.yes ?? false,
        failFast: values["fail-fast"] ?? false,
        jobs: jobsFlag,
        executor: executorFlag,
        detach: values.detach ?? false,
        argv: ["run", ...argv],
        usage,
        writeReport: (dir, logger) => writeReportOrWarn(dir, sweep.registry, logger, io.cwd),
      }, io);
    }
    const session = await openExperiment(file ?? "", values.set ?? [], io);
    const { graph, config } = session;
    const selected = selectStages(graph, { only: values.only, from: values.from, until: values.until });
    const forced = values["force-all"] ? "all" : new Set(values.force ?? []);
    if (forced !== "all") {
      for (const id of forced) {
        if (!graph.byId.has(id)) throw new MuPipeError({ reason: "not-found", what: "stage", query: id, candidates: graph.stages.map((s) => s.id) });
      }
    }
    const { store, digestExternal, saveDigestCache } = await openExperimentStore(config.settings.storeDir);
    const jobs = jobsFlag ?? config.settings.jobs;
    const executor = executorFlag ?? config.settings.executor;
    const detach = values.detach ?? false;
    if (detach && executor !== "slurm") throw new MuPipeError({ reason: "usage", message: "--detach needs --executor slurm (or settings.executor: slurm): local stages end with the command", hint: usage });

    if (values["dry-run"]) {
      const { planRun } = await import("../../pipeline/plan.js");
      const previous = previousFingerprints(config.settings.runsDir, config.name, store, null);
      const plans = await planRun(graph, selected, forced, { store, digestExternal, previousFingerprint: previous });
      printPlan(plans, io);
      printPlanProblems(await planProblems(graph, plans, store), io);
      await saveDigestCache();
      return 0;
    }

    if (graph.stages.some((s) => selected.has(s.id) && s.type.usesBackend === true)) {
      // npm ci removes the native binding: restore or rebuild it now, or say what the run falls back to.
      const { prepareNativeBackend } = await import("../../stages/runtime/native-startup.js");
      const line = await prepareNativeBackend(config.settings.runtime.backend, { env: io.env, announce: (text) => io.err(text) });
      if (line) io.err(line);
    }

    const onCluster = executor === "slurm";
    if (onCluster) await requireSlurm();
    const runDir = await RunDirectory.create({
      runsDir: config.settings.runsDir,
      experiment: config.name,
      configFile: config.file,
      resolvedConfig: withFilledParams(config),
      argv: ["run", ...argv],
      stages: graph.stages.map((s) => ({ id: s.id, uses: s.type.name })),
      ...(onCluster ? { executor: { kind: "slurm" as const, detached: detach } } : {}),
    });
    const logger = createLogger(io, { concurrent: jobs > 1 || onCluster });
    const signals = listenForStop();
    try {
      const run: ScheduledRun = {
        graph,
        selected,
        force: forced,
        runDir,
        sink: logger,
        store,
        digestExternal,
        previousFingerprint: previousFingerprints(config.settings.runsDir, config.name, store, runDir.id),
      };
      let result: ExecuteResult;
      if (onCluster) {
        const { runOnCluster } = await import("../../pipeline/cluster/cluster-executor.js");
        const outcome = await runOnCluster({ runs: [run], detach, command: workerCommand(), cwd: io.cwd, signal: signals.stop, hurry: signals.hurry });
        result = outcome.results[0] ?? { status: "interrupted", stageId: null, message: null };
        if (detach && result.preflight === undefined) {
          await logger.close();
          await saveDigestCache();
          io.out(detachedText(outcome.submitted, runDir.id));
          return 0;
        }
      } else {
        result = await execute(run, { jobs, signal: signals.stop, hurry: signals.hurry }, localLauncher(jobs, io));
      }
      await logger.close();
      await saveDigestCache();
      await writeReportOrWarn(runDir.dir, session.registry, logger, io.cwd);
      if (result.status === "interrupted") throw new MuPipeError({ reason: "interrupted", ...(result.stageId ? { stageId: result.stageId } : {}) });
      if (result.preflight) {
        throw new MuPipeError({ reason: "preflight-failed", before: result.preflight.before, diagnostics: result.preflight.problems.map((p) => p.diagnostic) });
      }
      if (result.status === "failed") {
        const logFile = runDir.logFile(result.stageId ?? "");
        throw new MuPipeError({ reason: "stage-failed", stageId: result.stageId ?? "?", message: result.message ?? "failed", ...(existsSync(logFile) ? { logFile } : {}) });
      }
      return 0;
    } finally {
      await logger.close(); // safe twice; keeps listr's timer from holding the process open after a throw
      signals.dispose();
      exitSoonIfHurried(signals);
    }
  },
};

/** Every run ends with its report.html; one that cannot be written is a warning, never a change of exit code. */
async function writeReportOrWarn(runDir: string, registry: StageRegistry, logger: Logger, cwd: string): Promise<void> {
  try {
    const { writeRunReport } = await import("../report/write-report.js");
    await writeRunReport(runDir, registry);
  } catch (error) {
    const why = error instanceof MuPipeError && error.failure.reason === "io" ? error.failure.message : error instanceof Error ? error.message : String(error);
    logger.warn(`could not write ${relativePath(cwd, path.join(runDir, "report.html"))}: ${why}`);
  }
}

/** `--jobs N`: a whole number of at least 1, or absent (the experiment's `settings.jobs`). */
export function parseJobs(value: string | undefined, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1) throw new MuPipeError({ reason: "usage", message: `--jobs takes a whole number of at least 1, not ${value}`, hint: usage });
  return jobs;
}
