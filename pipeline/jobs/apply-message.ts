/** The owner's side of job messages (job-messages.ts): each one applied to the run it belongs to. */
import type { EventSink } from "../events.js";
import type { RunRecorder } from "../run-recorder.js";
import type { ArtifactStore } from "../store/artifact-store.js";
import type { JobMessage, JobOutcome } from "./job-messages.js";

export interface MessageTarget {
  readonly runDir: RunRecorder;
  readonly sink: EventSink;
  readonly store: ArtifactStore;
}

/** Applies messages in the order they came, one at a time; `outcome` is the last one seen. */
export class MessageApplier {
  #chain: Promise<void> = Promise.resolve();
  #outcome: JobOutcome | null = null;
  #error: unknown = null;

  constructor(private readonly target: MessageTarget) {}

  get outcome(): JobOutcome | null {
    return this.#outcome;
  }

  push(message: JobMessage): void {
    if (message.type === "outcome") {
      this.#outcome = message.outcome;
      return;
    }
    this.#chain = this.#chain.then(() => applyJobMessage(message, this.target)).catch((error: unknown) => {
      this.#error ??= error;
    });
  }

  /** Waits until every message so far is applied; throws the first failure to apply one. */
  async settled(): Promise<void> {
    await this.#chain;
    if (this.#error !== null) throw this.#error;
  }
}

export async function applyJobMessage(message: Exclude<JobMessage, { type: "outcome" }>, target: MessageTarget): Promise<void> {
  switch (message.type) {
    case "event":
      target.sink.emit(message.event);
      return;
    case "record":
      await target.runDir.updateStage(message.stageId, message.change);
      return;
    case "metrics":
      await target.runDir.setMetrics(message.stageId, message.metrics);
      return;
    case "link":
      await target.runDir.linkArtifact(message.stageId, await target.store.materialize(message.artifactDigest), message.artifactDigest);
      return;
  }
}
