/**
 * A sweep spec -> the runs it makes: every `include:` combination (or just one, empty)
 * crossed with the cartesian product of the axes, the first axis varying slowest.
 * Each run is named after its values: `lr=1e-3,loss=dice,fold=0`, keys shortened to
 * the last segments of their path that tell them apart, values as written.
 */
import type { Assignment } from "../config/overrides.js";
import { toPlain } from "../config/source-tree.js";
import { isRepeatKey, writtenText, type SweepSpec } from "./sweep-spec.js";

export interface Combination {
  /** Unique within the sweep; the run folder is `<stamp>-<experiment>[<label>]`. */
  readonly label: string;
  /** What to set, in order: cv's fixed values, then the include entry, then one value per axis. */
  readonly assignments: readonly Assignment[];
  /** Param path -> value (plain data), for every swept key, in key order. */
  readonly values: Readonly<Record<string, unknown>>;
}

export interface SweptKey {
  readonly key: string;
  /** How the key shows in names and table headers (`lr`, or `finetune1.params.lr` when two end in `lr`). */
  readonly short: string;
  readonly repeat: boolean;
}

export interface Expansion {
  readonly keys: readonly SweptKey[];
  readonly combinations: readonly Combination[];
}

/** The longest a value gets in a run's name. */
const MAX_VALUE_CHARS = 24;

export function expandSweep(spec: SweepSpec): Expansion {
  let partial: Assignment[][] = (spec.include ?? [[]]).map((combination) => [...combination]);
  for (const axis of spec.axes) {
    partial = partial.flatMap((combination) => axis.values.map((value) => [...combination, { segments: axis.segments, value }]));
  }
  const keyOf = (a: Assignment): string => a.segments.map((s) => s.name).join(".");
  const allKeys = [...new Set(partial.flatMap((combination) => combination.map(keyOf)))];
  const shortNames = shortestUniqueSuffixes(allKeys);
  const repeatKeys = new Set(spec.axes.filter((axis) => axis.repeat).map((axis) => axis.key));
  const keys = allKeys.map((key, i) => ({ key, short: shortNames[i] ?? key, repeat: repeatKeys.has(key) || isRepeatKey(key) }));

  const seen = new Map<string, number>();
  const combinations = partial.map((combination) => {
    // A later assignment of a key wins (an axis over an include entry's value).
    const byKey = new Map(combination.map((a) => [keyOf(a), a]));
    const parts = keys.filter((k) => byKey.has(k.key)).map((k) => `${k.short}=${nameSafe(writtenText((byKey.get(k.key) as Assignment).value))}`);
    let label = parts.join(",");
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    if (count > 1) label = `${label},#${count}`;
    return {
      label,
      assignments: [...spec.fixed, ...combination],
      values: Object.fromEntries(keys.filter((k) => byKey.has(k.key)).map((k) => [k.key, toPlain((byKey.get(k.key) as Assignment).value)])),
    };
  });
  return { keys, combinations };
}

/** For each path, its shortest tail of segments that no other path ends with. */
export function shortestUniqueSuffixes(keys: readonly string[]): string[] {
  const split = keys.map((key) => key.split("."));
  return split.map((segments, i) => {
    for (let n = 1; n <= segments.length; n++) {
      const tail = segments.slice(-n).join(".");
      if (split.every((other, j) => j === i || other.slice(-n).join(".") !== tail)) return tail;
    }
    return segments.join(".");
  });
}

/** Run names are folder names: no path separators or spaces, and short. */
function nameSafe(text: string): string {
  const safe = text.replace(/[/\\\s]+/g, "_").replace(/[[\]]/g, (c) => (c === "[" ? "(" : ")"));
  return safe.length > MAX_VALUE_CHARS ? `${safe.slice(0, MAX_VALUE_CHARS - 1)}~` : safe;
}
