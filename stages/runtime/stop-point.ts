/**
 * A point between two batches where training or inference may stop. A TensorFlow batch holds the
 * thread, and awaiting resolved promises never lets the event loop turn, so a Ctrl-C
 * handler would not run until the epoch's checkpoint does file I/O (minutes at
 * 224x224). Yielding one event-loop turn per batch lets it run, at a cost of
 * microseconds; then an aborted signal throws.
 */
import { setImmediate as nextTurn } from "node:timers/promises";

export async function stopPoint(signal: AbortSignal): Promise<void> {
  await nextTurn();
  signal.throwIfAborted();
}
