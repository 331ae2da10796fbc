/**
 * How a stage run in a process of its own (a `--jobs` worker, a Slurm job) reports to
 * the process that owns its run: one JSON object per line on its standard output, so a
 * pipe (local) and a log file on a shared file system (Slurm) carry the same stream.
 *
 * The worker never writes run.json itself. Its `record`/`metrics`/`link` messages are
 * applied by the owner to the run folder, and its events go to the owner's logger; the
 * `outcome` line comes last.
 */
import type { PipelineEvent } from "../events.js";
import type { StageChange } from "../run-recorder.js";
import type { Metrics } from "../stage.js";

/** Every line starts with this tag, so other output mixed into the stream (a library's warning) is ignored. */
export const JOB_MESSAGE_TAG = "@mu-pipe ";

/** How a worker's stage ended. `ready` carries what later stages read. */
export type JobOutcome =
  | { readonly kind: "done"; readonly key: string; readonly artifactDigest: string }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "interrupted" };

export type JobMessage =
  | { readonly type: "event"; readonly event: PipelineEvent }
  | { readonly type: "record"; readonly stageId: string; readonly change: StageChange }
  | { readonly type: "metrics"; readonly stageId: string; readonly metrics: Metrics }
  | { readonly type: "link"; readonly stageId: string; readonly artifactDigest: string }
  | { readonly type: "outcome"; readonly outcome: JobOutcome };

export function encodeJobMessage(message: JobMessage): string {
  return `${JOB_MESSAGE_TAG}${JSON.stringify(message)}\n`;
}

/** The message on one line of a worker's output, or null for any other line. */
export function decodeJobMessage(line: string): JobMessage | null {
  if (!line.startsWith(JOB_MESSAGE_TAG)) return null;
  try {
    const value = JSON.parse(line.slice(JOB_MESSAGE_TAG.length)) as unknown;
    return isJobMessage(value) ? value : null;
  } catch {
    return null;
  }
}

const TYPES = new Set(["event", "record", "metrics", "link", "outcome"]);

function isJobMessage(value: unknown): value is JobMessage {
  return typeof value === "object" && value !== null && TYPES.has((value as { type?: unknown }).type as string);
}

/** Splits a stream of chunks into whole lines (a chunk may end mid-line). */
export class LineSplitter {
  #rest = "";

  push(chunk: string): string[] {
    const text = this.#rest + chunk;
    const lines = text.split("\n");
    this.#rest = lines.pop() ?? "";
    return lines;
  }

  /** What is left after the stream ended (a last line without a newline). */
  end(): string[] {
    const rest = this.#rest;
    this.#rest = "";
    return rest === "" ? [] : [rest];
  }
}
