/**
 * How a run waits for a stage asked to stop. A stage sees Ctrl-C as an aborted signal
 * and stops at its next step; the engine waits for its code to settle, so its lock and
 * temp folder are let go only once nothing writes to them. A second Ctrl-C ("hurry")
 * stops the waiting, except for work the stage protected (a checkpoint being written):
 * that still finishes, so what the next attempt resumes from is never lost.
 */

/** Work a stage marked with `ctx.protect`, still in flight. */
export class ProtectedWork {
  readonly #inFlight = new Set<Promise<unknown>>();

  protect<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    return work;
  }

  /** Resolves once no protected work is in flight (work protected meanwhile included). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }
}

/** The stage's code was left running after a hurried stop; the process is expected to end soon. */
export class AbandonedError extends Error {
  constructor() {
    super("stopped without waiting for the stage to finish");
    this.name = "AbandonedError";
  }
}

/**
 * Settles as `work` does; but once `hurry` aborts, stops waiting for it, waits for the
 * protected work only, and rejects with AbandonedError.
 */
export async function settleOrAbandon<T>(work: Promise<T>, hurry: AbortSignal | undefined, protectedWork: ProtectedWork): Promise<T> {
  if (hurry === undefined) return work;
  let onHurry = (): void => {};
  const hurried = new Promise<"hurried">((resolve) => {
    onHurry = () => resolve("hurried");
    if (hurry.aborted) onHurry();
    else hurry.addEventListener("abort", onHurry, { once: true });
  });
  const settled = work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  try {
    const first = await Promise.race([settled, hurried]);
    if (first !== "hurried") {
      if ("error" in first) throw first.error;
      return first.value;
    }
  } finally {
    hurry.removeEventListener("abort", onHurry);
  }
  await protectedWork.drain();
  throw new AbandonedError();
}
