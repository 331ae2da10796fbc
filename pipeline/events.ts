/**
 * What the executor tells the outside world. It never prints: a Logger (cli/output/)
 * turns these into listr2 tasks on a terminal or plain lines in CI.
 */
import type { RunStatus } from "./formats.js";
import type { LockHolder } from "./store/artifact-store.js";
import type { Metrics, ProgressUpdate } from "./stage.js";

export type PipelineEvent =
  | {
      readonly type: "run-start";
      readonly runId: string;
      readonly runDir: string;
      readonly experiment: string;
      /** Every stage of the experiment in execution order; `selected` is false for stages outside --only/--from/--until. */
      readonly stages: readonly { readonly id: string; readonly uses: string; readonly selected: boolean }[];
    }
  | { readonly type: "stage-waiting"; readonly id: string; readonly holder: LockHolder }
  /** The stage's cluster job is submitted and not running yet, or its queue state changed (e.g. PENDING, reason Dependency). */
  | { readonly type: "stage-queued"; readonly id: string; readonly job: string; readonly state: string; readonly reason: string | null }
  | {
      readonly type: "stage-start";
      readonly id: string;
      readonly reason: string;
      /** What an interrupted attempt left that this one resumes from, e.g. `epoch 3 of 30`. */
      readonly resume?: string;
    }
  | {
      readonly type: "stage-progress";
      readonly id: string;
      readonly update: ProgressUpdate;
      /** Seconds left, estimated from `current/total` and the time since the stage started; null when unknown. */
      readonly etaSeconds: number | null;
    }
  | { readonly type: "stage-reused"; readonly id: string; readonly reason: string; readonly artifactDigest: string }
  | { readonly type: "stage-succeeded"; readonly id: string; readonly durationMs: number; readonly metrics: Metrics }
  | { readonly type: "stage-failed"; readonly id: string; readonly message: string; readonly logFile: string | null }
  | { readonly type: "stage-interrupted"; readonly id: string }
  | { readonly type: "stage-skipped"; readonly id: string; readonly reason: string }
  | {
      /**
       * The run was asked to stop (Ctrl-C), said at once. First `hurry: false`: the running
       * stage (`stageId`, null between stages) is asked to stop and waited for. Then, on a
       * second request, `hurry: true`: the run no longer waits for the stage, only for its
       * protected work (a checkpoint being written), records what happened and ends.
       */
      readonly type: "run-stopping";
      readonly stageId: string | null;
      readonly hurry: boolean;
    }
  | { readonly type: "run-end"; readonly runId: string; readonly runDir: string; readonly status: RunStatus; readonly durationMs: number };

export interface EventSink {
  emit(event: PipelineEvent): void;
}

export interface Logger extends EventSink {
  /** One line about the run that is no stage's, e.g. that its report could not be written. */
  warn(message: string): void;
  /** Flushes and tears down (listr2 must finish rendering before the CLI prints anything else). */
  close(): Promise<void>;
}
