/**
 * `mu-pipe run` of an experiment with a sweep: every combination is an ordinary run
 * (its own folder, config.yaml, run.json, report.html), one after another, all under
 * one sweep record. Stages that do not depend on a swept value have the same
 * fingerprint in every combination, so the store computes them once.
 *
 * A failed combination does not stop the others unless `--fail-fast`; the exit code is
 * 1 when any failed. Ctrl-C stops the sweep (130); the rest stay `pending`.
 */
import { existsSync } from "node:fs";
import { schedule, type ExecuteResult, type ScheduledRun } from "../pipeline/executor.js";
import type { ExecutorName } from "../pipeline/config/execution-settings.js";
import { localLauncher, workerCommand } from "./local-launcher.js";
import { detachedText, requireSlurm } from "./cluster-options.js";
import { MuPipeError } from "../pipeline/failure.js";
import type { RunStatus } from "../pipeline/formats.js";
import { buildGraph, selectStages, type Selection } from "../pipeline/graph.js";
import type { StageRegistry } from "../pipeline/registry.js";
import { RunDirectory } from "../pipeline/run-directory.js";
import { previousFingerprints } from "../pipeline/run-history.js";
import type { LoadedSweep } from "../pipeline/sweep/load-sweep.js";
import { SweepLog } from "../pipeline/sweep/sweep-record.js";
import type { CommandIO } from "./command.js";
import { createLogger } from "./output/logger.js";
import { withFilledParams } from "./resolved-config.js";
import { exitSoonIfHurried, listenForStop } from "./stop-signals.js";
import { sweepPlanText } from "./output/sweep-plan-text.js";
import { renderRunEnd } from "./output/sweep-table.js";
import { openExperimentStore, type StoreSession } from "./store-session.js";
import { planSweep } from "./sweep-plan.js";

/** Beyond this many runs a sweep needs `--yes`: a typo in a list should not start a week of training. */
export const MAX_RUNS_WITHOUT_YES = 64;

export interface SweepRunOptions {
  readonly selection: Selection;
  readonly force: ReadonlySet<string> | "all";
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly failFast: boolean;
  /** `--jobs`; absent: the experiment's `settings.jobs`. */
  readonly jobs: number | undefined;
  /** `--executor`; absent: the experiment's `settings.executor`. */
  readonly executor: ExecutorName | undefined;
  readonly detach: boolean;
  readonly argv: readonly string[];
  readonly usage: string;
  /** Writes a run's report.html (run.ts's, so both warn alike). */
  writeReport(runDir: string, logger: ReturnType<typeof createLogger>): Promise<void>;
}

export async function runSweep(sweep: LoadedSweep, registry: StageRegistry, options: SweepRunOptions, io: CommandIO): Promise<number> {
  const count = sweep.runs.length;
  if (count > MAX_RUNS_WITHOUT_YES && !options.yes && !options.dryRun) {
    throw new MuPipeError({
      reason: "usage",
      message: `this sweep makes ${count} runs, more than ${MAX_RUNS_WITHOUT_YES}; add --yes to run them all (or --dry-run to list them)`,
      hint: options.usage,
    });
  }
  const stores = new Map<string, Promise<StoreSession>>();
  const openStore = (dir: string): Promise<StoreSession> => {
    let session = stores.get(dir);
    if (!session) stores.set(dir, (session = openExperimentStore(dir)));
    return session;
  };
  const saveDigestCaches = async (): Promise<void> => {
    for (const session of stores.values()) await (await session).saveDigestCache();
  };

  if (options.dryRun) {
    io.out(sweepPlanText(sweep, await planSweep(sweep, registry, options.selection, options.force, openStore)));
    await saveDigestCaches();
    return 0;
  }

  const first = sweep.runs[0];
  if (!first) return 0;
  const onCluster = (options.executor ?? first.config.settings.executor) === "slurm";
  if (options.detach && !onCluster) throw new MuPipeError({ reason: "usage", message: "--detach needs --executor slurm (or settings.executor: slurm): local stages end with the command", hint: options.usage });
  if (options.detach && options.failFast) throw new MuPipeError({ reason: "usage", message: "--fail-fast needs the command to follow the jobs, and --detach leaves them; use one of the two", hint: options.usage });
  if (onCluster) await requireSlurm();
  const log = await SweepLog.create({
    runsDir: first.config.settings.runsDir,
    experiment: first.config.name,
    configFile: first.config.file,
    argv: options.argv,
    keys: sweep.keys,
    combinations: sweep.runs,
  });
  io.err(`[sweep] ${log.id}: ${count} run${count === 1 ? "" : "s"}`);

  const signals = listenForStop();
  const jobs = options.jobs ?? first.config.settings.jobs;
  const ended: RunStatus[] = [];
  const openers = sweep.runs.map((run, index) => async (): Promise<ScheduledRun> => {
    io.err(`[sweep] ${index + 1}/${count} [${run.label}]`);
    const { config } = run;
    const graph = buildGraph(config, registry);
    const { store, digestExternal } = await openStore(config.settings.storeDir);
    const runDir = await RunDirectory.create({
      runsDir: config.settings.runsDir,
      experiment: config.name,
      configFile: config.file,
      resolvedConfig: withFilledParams(config),
      argv: options.argv,
      stages: graph.stages.map((s) => ({ id: s.id, uses: s.type.name })),
      sweep: { id: log.id, label: run.label, values: run.values },
      ...(onCluster ? { executor: { kind: "slurm" as const, detached: options.detach } } : {}),
    });
    // Several runs at once print plain lines, each naming its run.
    const logger = createLogger(io, jobs > 1 ? { prefix: `[${run.label}] ` } : {});
    loggers.set(index, logger);
    return {
      graph,
      selected: selectStages(graph, options.selection),
      force: options.force,
      runDir,
      sink: logger,
      store,
      digestExternal,
      previousFingerprint: previousFingerprints(config.settings.runsDir, config.name, store, runDir.id),
    };
  });
  const loggers = new Map<number, ReturnType<typeof createLogger>>();
  try {
    const onRunEnd = async (index: number, run: ScheduledRun, result: ExecuteResult): Promise<void> => {
          const logger = loggers.get(index);
          await logger?.close();
          if (logger) await options.writeReport(run.runDir.dir, logger);
          ended.push(result.status);
          await log.update(index, run.runDir.id, result.status);
          const label = sweep.runs[index]?.label ?? "?";
          if (result.status === "failed") {
            const logFile = run.runDir.logFile(result.stageId ?? "");
            io.err(`[sweep] [${label}] failed at ${result.stageId ?? "?"}: ${result.message ?? "failed"}${existsSync(logFile) ? ` (log: ${logFile})` : ""}`);
          }
    };
    if (onCluster) {
      const { runOnCluster } = await import("../pipeline/cluster/cluster-executor.js");
      const runs: ScheduledRun[] = [];
      for (const open of openers) runs.push(await open());
      const outcome = await runOnCluster({
        runs,
        detach: options.detach,
        failFast: options.failFast,
        command: workerCommand(),
        cwd: io.cwd,
        signal: signals.stop,
        hurry: signals.hurry,
        ...(options.detach ? {} : { onRunEnd }),
      });
      if (options.detach) {
        io.out(detachedText(outcome.submitted, `${log.id} (sweep)`));
        return 0;
      }
    } else {
      await schedule({ runs: openers, jobs, failFast: options.failFast, signal: signals.stop, hurry: signals.hurry, onRunEnd }, localLauncher(jobs, io));
    }
  } finally {
    for (const logger of loggers.values()) await logger.close();
    signals.dispose();
    await saveDigestCaches();
  }

  const failed = ended.filter((s) => s === "failed").length;
  const interrupted = signals.stop.aborted || ended.includes("interrupted");
  await log.finish(interrupted ? "interrupted" : failed > 0 ? "failed" : "succeeded");
  io.err(renderRunEnd(log.id, count, ended));
  if (interrupted) {
    exitSoonIfHurried(signals);
    throw new MuPipeError({ reason: "interrupted" });
  }
  return failed > 0 || ended.length < count ? 1 : 0;
}
