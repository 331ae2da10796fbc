/**
 * Ctrl-C (or SIGTERM) for `mu-pipe run` and sweeps: the first asks the running stage to
 * stop and waits for it; a second stops waiting (a checkpoint being written still
 * finishes, see pipeline/stopping.ts). Either way the run is recorded before exit.
 */
export interface StopSignals {
  /** Aborted by the first signal: passed to `execute` as its `signal`. */
  readonly stop: AbortSignal;
  /** Aborted by the second: passed to `execute` as its `hurry`. */
  readonly hurry: AbortSignal;
  /** Stops listening; call once the run is recorded. */
  dispose(): void;
}

export function listenForStop(): StopSignals {
  const stop = new AbortController();
  const hurry = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) hurry.abort();
    else stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    stop: stop.signal,
    hurry: hurry.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * After a hurried stop, a stage's code may still be running and would hold the process
 * open: end it once the failure is printed (that happens before this callback runs).
 */
export function exitSoonIfHurried(signals: StopSignals): void {
  if (signals.hurry.aborted) setImmediate(() => process.exit());
}
