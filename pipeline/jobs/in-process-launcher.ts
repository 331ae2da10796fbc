/** Runs a decided stage in this process: `mu-pipe run` with one job, and tests. */
import type { StageLauncher } from "../executor.js";
import { runStage } from "../run-stage.js";
import { buildStageJob } from "../stage-job.js";

export function inProcessLauncher(now: () => number = Date.now): StageLauncher {
  return {
    async launch({ run, stage, decision, inputDigest, signal, hurry }) {
      const job = await buildStageJob(run.graph, stage, decision, inputDigest, run.store);
      const outcome = await runStage(job, { store: run.store, runDir: run.runDir, sink: run.sink, signal, ...(hurry ? { hurry } : {}), now });
      return outcome.kind === "done" ? { kind: "done", key: decision.key, artifactDigest: outcome.record.artifactDigest } : outcome;
    },
  };
}
