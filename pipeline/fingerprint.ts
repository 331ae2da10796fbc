/**
 * Cache keys and the reasons a stage must run again.
 *
 * A stage's cached artifact is reused only when the sha256 of its canonical fingerprint
 * (see `Fingerprint` in formats.ts) equals the key of a stored record. Canonical means
 * two fingerprints that mean the same thing give byte-identical JSON, whatever key
 * order or number spelling the experiment file used.
 */
import { createHash } from "node:crypto";
import type { Fingerprint } from "./formats.js";

/** A value that has no canonical JSON form (NaN, a Map, a cycle, ...), with where it sits. */
export class CanonicalJsonError extends Error {
  constructor(
    /** Key path of the offending value, e.g. `params.lr`; `(root)` for the value itself. */
    readonly keyPath: string,
    readonly problem: string,
  ) {
    super(`cannot write ${keyPath} as canonical JSON: ${problem}`);
    this.name = "CanonicalJsonError";
  }
}

/**
 * JSON text that is the same for every value that means the same thing. Rules, and why:
 *
 * - Object keys are sorted (by UTF-16 code units, as RFC 8785 does) at every depth: YAML
 *   key order is presentation, so reordering params must not invalidate the cache.
 * - No whitespace: layout is not meaning.
 * - Numbers are written with ECMAScript's shortest round-trip form (the one RFC 8785
 *   uses). By the time a value reaches us, `1e-4`, `0.0001` and `1.0E-4` in the YAML
 *   are the same double, and this form prints it one way (`0.0001`); `1.0` prints as
 *   `1`, so integers read as integers.
 * - `-0` is written `0`: the two compare equal and no param means something different
 *   for negative zero, so it must not split the cache.
 * - NaN and ±Infinity are rejected with the key path: JSON cannot express them, and
 *   silently writing `null` (as JSON.stringify does) would let `lr: .nan` share a
 *   cache entry with `lr: null`.
 * - Object members whose value is `undefined` are dropped: an absent optional param and
 *   one explicitly left undefined mean the same. `undefined` inside an array (or as the
 *   whole value) is rejected, since dropping it would shift positions.
 * - Only plain objects, arrays, strings, finite numbers, booleans and null are accepted
 *   (values with `toJSON`, such as Date, are converted first). A Map, Set, class
 *   instance, function, symbol or bigint is rejected rather than written as `{}` or
 *   dropped, which would make different values share a key. Cycles are rejected.
 */
export function canonicalJson(value: unknown): string {
  return write(value, [], new Set());
}

/** The cache key of a fingerprint: sha256 hex of its canonical JSON. */
export function fingerprintKey(fp: Fingerprint): string {
  return createHash("sha256").update(canonicalJson(fp), "utf8").digest("hex");
}

type Segment = string | number;

function write(value: unknown, at: Segment[], stack: Set<object>): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (Number.isNaN(value)) throw new CanonicalJsonError(formatKeyPath(at), "NaN is not a JSON number");
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(formatKeyPath(at), `${value > 0 ? "Infinity" : "-Infinity"} is not a JSON number`);
      }
      // JSON.stringify of a finite number is ECMAScript Number::toString, which writes -0 as "0".
      return JSON.stringify(value);
    case "undefined":
      throw new CanonicalJsonError(formatKeyPath(at), "undefined has no JSON form");
    case "bigint":
    case "symbol":
    case "function":
      throw new CanonicalJsonError(formatKeyPath(at), `a ${typeof value} has no JSON form`);
    case "object":
      break;
  }
  if (value === null) return "null";
  const object = value as object;
  if (stack.has(object)) throw new CanonicalJsonError(formatKeyPath(at), "the value contains a cycle");
  stack.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object.map((item: unknown, index) => write(item, [...at, index], stack)).join(",")}]`;
    }
    if (!isPlainObject(object)) {
      const toJSON = (object as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") return write(toJSON.call(object), at, stack);
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new CanonicalJsonError(formatKeyPath(at), `a ${kind} is not a plain object`);
    }
    const record = object as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined) continue;
      members.push(`${JSON.stringify(key)}:${write(member, [...at, key], stack)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    stack.delete(object);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A key path as people write it: `params.augment.flips[0]`; keys that are not plain
 * identifiers are quoted, `params["a.b"]`. An empty path is `(root)`.
 */
export function formatKeyPath(at: readonly Segment[]): string {
  if (at.length === 0) return "(root)";
  let out = "";
  for (const segment of at) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Why a stage whose last run had fingerprint `previous` must run again now, one line per
 * difference, in a fixed order: fingerprint format, stage type and version, params (a
 * deep diff with key paths), seed, upstream inputs, external files. Empty when the two
 * fingerprints are identical (the stage then reruns for another reason, such as its
 * artifact having been removed).
 */
export function explainFingerprintChange(previous: Fingerprint | null, current: Fingerprint): string[] {
  if (previous === null) return ["no previous run of this stage"];
  const reasons: string[] = [];
  // `version` is the literal 2 today; records of other formats still compare.
  const previousFormat: number = previous.version;
  const currentFormat: number = current.version;
  if (previousFormat !== currentFormat) reasons.push(`fingerprint format version ${previousFormat} -> ${currentFormat}`);
  if (previous.stageType !== current.stageType) {
    reasons.push(`stage type changed: ${previous.stageType} -> ${current.stageType}`);
  } else if (previous.stageVersion !== current.stageVersion) {
    reasons.push(`stage type ${current.stageType} version ${previous.stageVersion} -> ${current.stageVersion}`);
  }
  diffValue(["params"], previous.params, current.params, reasons);
  if (previous.seed !== current.seed) reasons.push(`seed changed: ${show(previous.seed)} -> ${show(current.seed)}`);
  for (const name of unionKeys(previous.inputs, current.inputs)) {
    const before = previous.inputs[name];
    const after = current.inputs[name];
    if (before === after) continue;
    if (before === undefined) reasons.push(`input ${name} added (upstream artifact ${shortDigest(after ?? "")})`);
    else if (after === undefined) reasons.push(`input ${name} removed`);
    else reasons.push(`input ${name} changed (upstream artifact ${shortDigest(before)} -> ${shortDigest(after)})`);
  }
  // Version 1 keyed external inputs by absolute path: listing them all as removed and added says nothing.
  if (previousFormat !== currentFormat) return reasons;
  for (const file of unionKeys(previous.external, current.external)) {
    const before = previous.external[file];
    const after = current.external[file];
    if (before === after) continue;
    if (before === undefined) reasons.push(`external ${file} added`);
    else if (after === undefined) reasons.push(`external ${file} removed`);
    else reasons.push(`external ${file} changed`);
  }
  return reasons;
}

/**
 * Deep diff. Objects recurse by key; arrays of equal length recurse by index (so one
 * changed element of a list of augmentations is named); anything else that differs is
 * reported whole.
 */
function diffValue(at: Segment[], before: unknown, after: unknown, out: string[]): void {
  if (sameValue(before, after)) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of unionKeys(before, after)) {
      const b = before[key];
      const a = after[key];
      const path = formatKeyPath([...at, key]);
      if (b === undefined && a === undefined) continue;
      if (b === undefined) out.push(`${path} added: ${show(a)}`);
      else if (a === undefined) out.push(`${path} removed: ${show(b)}`);
      else diffValue([...at, key], b, a, out);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item: unknown, index) => diffValue([...at, index], item, after[index], out));
    return;
  }
  out.push(`${formatKeyPath(at)} changed: ${show(before)} -> ${show(after)}`);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

const SHOW_LIMIT = 80;

/** A value as canonical JSON, shortened for a one-line reason. */
function show(value: unknown): string {
  let text: string;
  try {
    text = canonicalJson(value);
  } catch {
    text = String(value);
  }
  return text.length > SHOW_LIMIT ? `${text.slice(0, SHOW_LIMIT - 1)}…` : text;
}

/** `sha256:` and the first 8 hex digits, enough to tell artifacts apart by eye. */
export function shortDigest(digest: string): string {
  // Input digests carry the output they name after the artifact digest: `sha256:<hex>/out`.
  const match = /^sha256:([0-9a-f]{8})[0-9a-f]*(\/.*)?$/.exec(digest);
  return match ? `sha256:${match[1]}…${match[2] ?? ""}` : digest;
}

function unionKeys(a: object, b: object): string[] {
  const keys = new Set<string>([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].sort();
}
