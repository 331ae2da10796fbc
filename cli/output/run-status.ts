/**
 * A run's status as people read it: `died (pid 4242 is gone)`, `running (pid 42 on
 * host gpu-1)`; and a stage caught `running` in a run that died reads as `died`.
 */
import type { StageStatus } from "../../pipeline/formats.js";
import type { RunSummary } from "../run-lookup.js";

export function statusText(run: Pick<RunSummary, "status" | "statusDetail">): string {
  return run.statusDetail ? `${run.status} (${run.statusDetail})` : run.status;
}

export function stageStatusIn(run: Pick<RunSummary, "status">, status: StageStatus): StageStatus | "died" {
  return run.status === "died" && status === "running" ? "died" : status;
}
