/**
 * What running a stage writes about itself into its run: the stage's entry in run.json,
 * its metrics, the link to its artifact and the path of its log. `RunDirectory`
 * implements it in the process that owns the run; a stage run in a process of its own
 * (`--jobs`, Slurm) gets one that forwards each call to that owner instead, so run.json
 * has one writer.
 */
import type { StageRunEntry } from "./formats.js";
import type { Metrics } from "./stage.js";

export type StageChange = Partial<Omit<StageRunEntry, "id" | "uses">>;

export interface RunRecorder {
  logFile(stageId: string): string;
  updateStage(stageId: string, change: StageChange): Promise<void>;
  setMetrics(stageId: string, metrics: Metrics): Promise<void>;
  /** Links the stage's artifact (a folder the store materialised) into the run. */
  linkArtifact(stageId: string, artifactDir: string, artifactDigest: string): Promise<void>;
}
