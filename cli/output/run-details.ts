/**
 * `mu-pipe show <run>`: the run's header, one row per stage (status, duration, artifact,
 * why it ran or was reused), stage errors, then every metric.
 */
import path from "node:path";

import { flattenRunMetrics, type RunSummary } from "../run-lookup.js";
import { stageStatusIn, statusText } from "./run-status.js";
import { formatDuration, formatMetricValue, formatTimestamp, relativePath, shortDigest } from "./format.js";
import { renderTable } from "./table.js";
import type { LiveJob } from "../cluster-jobs.js";

/** `cwd` makes paths under it read relative (`runs/2026...`). */
export function renderRunDetails(run: RunSummary, cwd: string, cluster?: { readonly jobs: readonly LiveJob[]; readonly problem: string | null }): string {
  const record = run.record;
  const header: [string, string][] = [
    ["run", run.id],
    ["dir", relativePath(cwd, run.dir)],
    ["experiment", run.experiment],
    ["config", record ? relativePath(cwd, record.configFile) : "-"],
    ["status", statusText(run)],
    ["started", formatTimestamp(run.startedAt)],
    ["duration", run.durationMs === null ? "-" : formatDuration(run.durationMs)],
  ];
  if (record && record.argv.length > 0) header.push(["command", `mu-pipe ${record.argv.join(" ")}`]);
  if (run.problem) header.push(["problem", run.problem]);
  if (cluster?.problem) header.push(["slurm", cluster.problem]);
  const width = Math.max(...header.map(([key]) => key.length));
  let text = header.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join("\n") + "\n";

  if (record && record.stages.length > 0) {
    const rows = record.stages.map((stage) => [
      stage.id,
      stage.uses,
      withJob(stageStatusIn(run, stage.status), cluster?.jobs.find((j) => j.stageId === stage.id)),
      // A reused stage took no time in this run; its original duration is in the run that made it.
      stage.durationMs === null || stage.status === "reused" ? "-" : formatDuration(stage.durationMs),
      shortDigest(stage.artifactDigest),
      stage.reason || "-",
    ]);
    text +=
      "\n" +
      renderTable(
        [{ header: "STAGE" }, { header: "TYPE" }, { header: "STATUS" }, { header: "DURATION", align: "right" }, { header: "ARTIFACT" }, { header: "REASON" }],
        rows,
      );
    const errors = record.stages.filter((stage) => stage.error);
    if (errors.length > 0) {
      text += "\nerrors\n" + errors.map((stage) => `  ${stage.id}: ${stage.error}\n    log: ${relativePath(cwd, path.join(run.dir, "logs", `${stage.id}.log`))}\n`).join("");
    }
  }

  const metrics = [...flattenRunMetrics(run)];
  text += "\n";
  text +=
    metrics.length === 0
      ? "no metrics\n"
      : renderTable(
          [{ header: "METRIC" }, { header: "VALUE", align: "right" }],
          metrics.map(([key, value]) => [key, formatMetricValue(value)]),
        );
  return text;
}

export function runDetailsAsJson(run: RunSummary, jobs?: readonly LiveJob[]): string {
  return `${JSON.stringify({ id: run.id, dir: run.dir, status: run.status, ...(run.statusDetail ? { statusDetail: run.statusDetail } : {}), record: run.record, metrics: run.metrics, ...(run.problem ? { problem: run.problem } : {}), ...(jobs ? { slurmJobs: jobs } : {}) }, null, 2)}\n`;
}

/** `pending · Slurm 45 PENDING (Dependency)`: a recorded status with what Slurm says now. */
function withJob(status: string, job: LiveJob | undefined): string {
  if (!job) return status;
  return `${status} · Slurm ${job.jobId} ${job.state ?? "unknown to Slurm"}`;
}
