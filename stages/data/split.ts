/**
 * Assigning items to train/val/test, deterministically from the experiment seed.
 *
 * - by image: items (sorted by id) are shuffled and cut at the fraction boundaries.
 * - by subject: subjects are shuffled and each goes, whole, to the split furthest
 *   below its share of items, so no subject appears in two splits.
 * - k-fold (`folds: K, fold: k`): the units (subjects, else images) are dealt into K
 *   folds of near-equal item counts; fold k is the test split and the other folds are
 *   cut into train/val by the train:val fractions, by the same rules as above. The
 *   folds do not depend on k, so the K runs of a cross-validation test every item once.
 * - from a file: JSON `{ "<id>": "train", ... }` or `{ "train": [ids], ... }`, or CSV
 *   lines `id,split` (an optional header line `id,split`).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Split } from "./dataset-manifest.js";
import type { SplitBy } from "./load-params.js";
import { compare } from "./sources/source-scan.js";

export const SPLITS: readonly Split[] = ["train", "val", "test"];

export interface Fractions {
  readonly train: number;
  readonly val: number;
  readonly test: number;
}

export interface Splittable {
  readonly id: string;
  readonly subject: string | null;
}

/** A 32-bit seed for one purpose (`split`, `limit`, `synthetic:17`) of an experiment seed. */
export function derivedSeed(seed: number, purpose: string): number {
  return createHash("sha256").update(`${seed}:${purpose}`).digest().readUInt32LE(0);
}

/** mulberry32: a small, fast, well-mixed 32-bit generator; returns floats in [0, 1). */
export function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(values: readonly T[], random: () => number): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Whole counts per split summing to `total` (largest remainder). */
export function splitCounts(total: number, fractions: Fractions): Record<Split, number> {
  const exact = SPLITS.map((s) => fractions[s] * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = SPLITS.map((_, i) => i).sort((a, b) => (exact[b] as number) - (counts[b] as number) - ((exact[a] as number) - (counts[a] as number)) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  return { train: counts[0] ?? 0, val: counts[1] ?? 0, test: counts[2] ?? 0 };
}

/** The unit a split uses when the params do not say: subject when every item has one. */
export function defaultSplitBy(items: readonly Splittable[]): SplitBy {
  return items.length > 0 && items.every((item) => item.subject !== null) ? "subject" : "image";
}

/** id -> split for every item. */
export function assignSplits(items: readonly Splittable[], fractions: Fractions, by: SplitBy, seed: number): Map<string, Split> {
  const random = makeRandom(derivedSeed(seed, "split"));
  const sorted = [...items].sort((a, b) => compare(a.id, b.id));
  const result = new Map<string, Split>();
  if (by === "image") {
    const counts = splitCounts(sorted.length, fractions);
    const order = shuffled(sorted, random);
    order.forEach((item, i) => result.set(item.id, i < counts.train ? "train" : i < counts.train + counts.val ? "val" : "test"));
    return result;
  }
  const bySubject = new Map<string, Splittable[]>();
  for (const item of sorted) {
    if (item.subject === null) throw new Error(`cannot split by subject: item "${item.id}" has no subject (use split.by: image)`);
    const list = bySubject.get(item.subject);
    if (list) list.push(item);
    else bySubject.set(item.subject, [item]);
  }
  const subjects = shuffled([...bySubject.keys()].sort(compare), random);
  const filled: Record<Split, number> = { train: 0, val: 0, test: 0 };
  for (const subject of subjects) {
    const group = bySubject.get(subject) ?? [];
    // The split furthest below its target share takes the whole subject.
    let best: Split = "train";
    let bestDeficit = -Infinity;
    for (const split of SPLITS) {
      if (fractions[split] <= 0) continue;
      const deficit = fractions[split] * sorted.length - filled[split];
      if (deficit > bestDeficit) {
        best = split;
        bestDeficit = deficit;
      }
    }
    filled[best] += group.length;
    for (const item of group) result.set(item.id, best);
  }
  return result;
}

/** fold index (0..folds-1) for every item; units (subjects when `by` is subject) never straddle two folds. */
export function assignFolds(items: readonly Splittable[], folds: number, by: SplitBy, seed: number): Map<string, number> {
  const random = makeRandom(derivedSeed(seed, "folds"));
  const groups = groupByUnit(items, by);
  // Biggest units first (ties in seeded order), each to the fold with fewest items: near-equal folds.
  const order = shuffled([...groups.keys()].sort(compare), random);
  const rank = new Map(order.map((unit, i) => [unit, i]));
  order.sort((a, b) => (groups.get(b)?.length ?? 0) - (groups.get(a)?.length ?? 0) || (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  const sizes = new Array<number>(folds).fill(0);
  const result = new Map<string, number>();
  for (const unit of order) {
    const group = groups.get(unit) ?? [];
    const fold = sizes.indexOf(Math.min(...sizes));
    sizes[fold] = (sizes[fold] ?? 0) + group.length;
    for (const item of group) result.set(item.id, fold);
  }
  return result;
}

/** Fold `fold` of `folds` is the test split; the rest is split into train/val by their fractions. */
export function assignFoldSplits(items: readonly Splittable[], fractions: Fractions, by: SplitBy, seed: number, folds: number, fold: number): Map<string, Split> {
  const foldOf = assignFolds(items, folds, by, seed);
  const rest = items.filter((item) => foldOf.get(item.id) !== fold);
  const share = fractions.train + fractions.val;
  const trainVal = share > 0 ? { train: fractions.train / share, val: fractions.val / share, test: 0 } : { train: 1, val: 0, test: 0 };
  const result = assignSplits(rest, trainVal, by, seed);
  for (const item of items) if (foldOf.get(item.id) === fold) result.set(item.id, "test");
  return result;
}

function groupByUnit(items: readonly Splittable[], by: SplitBy): Map<string, Splittable[]> {
  const groups = new Map<string, Splittable[]>();
  for (const item of [...items].sort((a, b) => compare(a.id, b.id))) {
    if (by === "subject" && item.subject === null) throw new Error(`cannot split by subject: item "${item.id}" has no subject (use split.by: image)`);
    const unit = by === "subject" ? (item.subject as string) : item.id;
    const list = groups.get(unit);
    if (list) list.push(item);
    else groups.set(unit, [item]);
  }
  return groups;
}

/** Reads a split file (JSON or CSV, by extension) into id -> split. */
export async function readSplitFile(file: string): Promise<Map<string, Split>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read split file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return path.extname(file).toLowerCase() === ".csv" ? parseSplitCsv(text, file) : parseSplitJson(text, file);
}

export function parseSplitJson(text: string, file: string): Map<string, Split> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`split file ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(`split file ${file}: expected an object {id: split} or {train: [ids], val: [ids], test: [ids]}`);
  }
  const map = new Map<string, Split>();
  const entries = Object.entries(data as Record<string, unknown>);
  const listForm = entries.length > 0 && entries.every(([key, value]) => isSplit(key) && Array.isArray(value));
  if (listForm) {
    for (const [split, ids] of entries) {
      for (const id of ids as unknown[]) {
        if (typeof id !== "string") throw new Error(`split file ${file}: "${split}" lists a non-string id ${JSON.stringify(id)}`);
        setOnce(map, id, split as Split, file);
      }
    }
    return map;
  }
  for (const [id, split] of entries) {
    if (!isSplit(split)) throw new Error(`split file ${file}: item "${id}" has split ${JSON.stringify(split)}, expected train, val or test`);
    setOnce(map, id, split, file);
  }
  return map;
}

export function parseSplitCsv(text: string, file: string): Map<string, Split> {
  const map = new Map<string, Split>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "") return;
    const cells = trimmed.split(",").map((cell) => cell.trim().replace(/^"(.*)"$/, "$1"));
    const [id, split] = cells;
    if (index === 0 && id?.toLowerCase() === "id" && split?.toLowerCase() === "split") return;
    if (cells.length !== 2 || id === undefined || id === "" || !isSplit(split)) {
      throw new Error(`split file ${file}, line ${index + 1}: expected "id,split" with split train, val or test, found "${trimmed}"`);
    }
    setOnce(map, id, split, file);
  });
  return map;
}

function setOnce(map: Map<string, Split>, id: string, split: Split, file: string): void {
  const previous = map.get(id);
  if (previous !== undefined && previous !== split) throw new Error(`split file ${file}: item "${id}" is in both ${previous} and ${split}`);
  map.set(id, split);
}

function isSplit(value: unknown): value is Split {
  return value === "train" || value === "val" || value === "test";
}
