/**
 * The facts (pipeline/stage.ts `Facts`) the data stages pass down the graph, so the
 * stages that read a split can check it before anything expensive runs: how many items
 * each split has, how the dataset was split and by which stage.
 *
 * `load` publishes them from its metrics once it has run, `flip-augment` and `augment`
 * add their copies, `merge` the items of its second dataset, `resize` passes them on;
 * `finetune`, `threshold` and `predict` check
 * them (each in its own module) with the messages made here.
 */
import type { Facts, PreflightProblem } from "../../pipeline/stage.js";
import type { Split } from "./dataset-manifest.js";
import type { LoadParams } from "./load-params.js";

export const SPLIT_NAMES: readonly Split[] = ["train", "val", "test"];

export interface DatasetFacts {
  /** The stage that split the dataset (its `params.split` is where to fix an empty split). */
  readonly stage: string;
  /** Original items per split. */
  readonly originals: Readonly<Record<Split, number>>;
  /** Augmented copies per split (flip-augment, augment). */
  readonly copies: Readonly<Record<Split, number>>;
  readonly subjects: number | null;
  readonly splitBy: "subject" | "image" | "file" | null;
  /** The split's fractions as the params gave them. */
  readonly fractions: Readonly<Record<Split, number>> | null;
  /** The items' attributes (null: not known, e.g. a load result cached before they were published). */
  readonly attributes: AttributeFacts | null;
}

/**
 * The attributes the items have (`kind`, `eye`, ...): every name, and for a name of at
 * most MAX_ATTRIBUTE_VALUES values the original items per value per split (an
 * attribute of many values, e.g. an id, has no counts). So `where` and `sampling` can
 * be checked before the stages that use them run.
 */
export interface AttributeFacts {
  readonly names: readonly string[];
  readonly counts: Readonly<Record<string, Readonly<Record<string, Readonly<Record<Split, number>>>>>>;
}

/** Attributes with more values than this publish no per-value counts (as evaluate's per-group figures). */
export const MAX_ATTRIBUTE_VALUES = 12;

const ATTRIBUTE_NAMES_KEY = "attributes";
/** `kind=webcam.train`: how many original train items have kind webcam. */
const attributeCountKey = (name: string, value: string, split: Split): string => `${name}=${value}.${split}`;
const ATTRIBUTE_COUNT_KEY = /^([^=]+)=(.+)\.(train|val|test)$/;

/** The attribute facts of `items` (originals), as load publishes them in its metrics. */
export function attributeMetrics(items: readonly { readonly split: Split; readonly attributes: Readonly<Record<string, string>> }[]): Facts {
  const byName = new Map<string, Map<string, Record<Split, number>>>();
  for (const item of items) {
    for (const [name, value] of Object.entries(item.attributes)) {
      const values = byName.get(name) ?? new Map<string, Record<Split, number>>();
      byName.set(name, values);
      const counts = values.get(value) ?? { train: 0, val: 0, test: 0 };
      values.set(value, counts);
      counts[item.split]++;
    }
  }
  const names = [...byName.keys()].sort();
  return attributeFactsToFlat({
    names,
    counts: Object.fromEntries(names.flatMap((name) => {
      const values = byName.get(name);
      return values === undefined || values.size > MAX_ATTRIBUTE_VALUES ? [] : [[name, Object.fromEntries([...values].sort(([a], [b]) => a.localeCompare(b)))]];
    })),
  });
}

function attributeFactsToFlat(a: AttributeFacts): Facts {
  const flat: Record<string, number | string> = { [ATTRIBUTE_NAMES_KEY]: a.names.join(",") };
  for (const [name, values] of Object.entries(a.counts)) {
    for (const [value, counts] of Object.entries(values)) for (const split of SPLIT_NAMES) flat[attributeCountKey(name, value, split)] = counts[split];
  }
  return flat;
}

function readAttributeFacts(facts: Facts): AttributeFacts | null {
  const names = facts[ATTRIBUTE_NAMES_KEY];
  if (typeof names !== "string") return null;
  const known = new Set(names.split(",").filter(Boolean));
  const counts: Record<string, Record<string, Record<Split, number>>> = {};
  for (const [key, value] of Object.entries(facts)) {
    const match = ATTRIBUTE_COUNT_KEY.exec(key);
    if (match === null || typeof value !== "number") continue;
    const [, name = "", attributeValue = "", split = "train"] = match;
    if (!known.has(name)) continue;
    const values = (counts[name] ??= {});
    const perSplit = (values[attributeValue] ??= { train: 0, val: 0, test: 0 });
    perSplit[split as Split] = value;
  }
  return { names: [...known], counts };
}

/** The items with each value of `name` in `split`, sorted by value, or null when not known. */
export function attributeValuesIn(a: AttributeFacts, name: string, split: Split): [string, number][] | null {
  const values = a.counts[name];
  if (values === undefined) return null;
  return Object.entries(values)
    .map(([value, counts]): [string, number] => [value, counts[split]])
    .filter(([, n]) => n > 0)
    .sort(([x], [y]) => x.localeCompare(y));
}

const num = (facts: Facts, key: string): number | null => {
  const value = facts[key];
  return typeof value === "number" ? value : null;
};

/** The dataset facts in `facts`, or null when they are not (yet) known. */
export function readDatasetFacts(facts: Facts | undefined): DatasetFacts | null {
  if (!facts) return null;
  const stage = facts["dataset_stage"];
  if (typeof stage !== "string") return null;
  const originals = { train: num(facts, "train"), val: num(facts, "val"), test: num(facts, "test") };
  if (originals.train === null || originals.val === null || originals.test === null) return null;
  const fractions = { train: num(facts, "fraction_train"), val: num(facts, "fraction_val"), test: num(facts, "fraction_test") };
  const splitBy = facts["split_by"];
  return {
    stage,
    originals: { train: originals.train, val: originals.val, test: originals.test },
    copies: { train: num(facts, "copies_train") ?? 0, val: num(facts, "copies_val") ?? 0, test: num(facts, "copies_test") ?? 0 },
    subjects: num(facts, "subjects"),
    splitBy: splitBy === "subject" || splitBy === "image" || splitBy === "file" ? splitBy : null,
    fractions: fractions.train === null || fractions.val === null || fractions.test === null ? null : { train: fractions.train, val: fractions.val, test: fractions.test },
    attributes: readAttributeFacts(facts),
  };
}

export function datasetFacts(d: DatasetFacts): Facts {
  return {
    dataset_stage: d.stage,
    ...d.originals,
    copies_train: d.copies.train,
    copies_val: d.copies.val,
    copies_test: d.copies.test,
    subjects: d.subjects,
    split_by: d.splitBy,
    ...(d.fractions ? { fraction_train: d.fractions.train, fraction_val: d.fractions.val, fraction_test: d.fractions.test } : {}),
    ...(d.attributes ? attributeFactsToFlat(d.attributes) : {}),
  };
}

/** `load`'s facts: its split counts once it has run (nothing before). */
export function loadFacts(stageId: string, params: LoadParams, metrics: Facts | null): Facts {
  if (metrics === null) return {};
  const { split } = params;
  const by = metrics["split_by"];
  const d: DatasetFacts = {
    stage: stageId,
    originals: { train: num(metrics, "train") ?? 0, val: num(metrics, "val") ?? 0, test: num(metrics, "test") ?? 0 },
    copies: { train: 0, val: 0, test: 0 },
    subjects: num(metrics, "subjects"),
    splitBy: by === "subject" || by === "image" || by === "file" ? by : split.file !== undefined ? "file" : (split.by ?? null),
    fractions: { train: split.train, val: split.val, test: split.test },
    attributes: readAttributeFacts(metrics),
  };
  if (typeof metrics["train"] !== "number") return metrics; // an old record without counts: nothing to check
  return { ...metrics, ...datasetFacts(d) };
}

/** Items a stage reading `split` sees: the originals, plus the mirrored copies unless it reads originals only. */
export function itemCount(d: DatasetFacts, split: Split, withCopies: boolean): number {
  return d.originals[split] + (withCopies ? d.copies[split] : 0);
}

/**
 * The problem "`split` is empty", pointing at the splitting stage's `params.split`:
 * which split, why it came out empty, what to change. `need` says why the reader needs
 * it; `otherwise` adds fixes on the reader's side.
 */
export function emptySplitProblem(d: DatasetFacts, split: Split, need: string, otherwise: readonly string[] = []): PreflightProblem {
  const counts = SPLIT_NAMES.map((s) => `${s} ${d.originals[s]}`).join(", ");
  const items = SPLIT_NAMES.reduce((sum, s) => sum + d.originals[s], 0);
  const fraction = d.fractions?.[split] ?? null;
  const wanted = d.fractions ? SPLIT_NAMES.filter((s) => (d.fractions?.[s] ?? 0) > 0).length : null;
  let why: string;
  let fix: string;
  if (d.splitBy === "file") {
    why = `the split file assigns it no item`;
    fix = `assign some items to ${split} in the split file (split.file)`;
  } else if (fraction === 0) {
    why = `split.${split} is 0`;
    fix = `give it a share, e.g. split.${split}: 0.1 (and lower split.train to match)`;
  } else if (d.splitBy === "subject" && d.subjects !== null && wanted !== null && d.subjects < wanted) {
    why = `${d.subjects} subject${d.subjects === 1 ? "" : "s"} cannot fill ${wanted} splits: split.by: subject puts all of a subject's images in one split`;
    fix = `add subjects, or set split.by: image (one person's photos may then be in two splits)`;
  } else if (d.splitBy === "subject") {
    why = `split.by: subject moves whole subjects, and none was left for its share (${fraction ?? "?"} of ${items} images)`;
    fix = `raise split.${split}, or set split.by: image`;
  } else {
    why = `its share (${fraction ?? "?"} of ${items} images) rounds to no image`;
    fix = `raise split.${split}, or add images`;
  }
  return {
    keyPath: `stages.${d.stage}.params.split`,
    message: `the ${split} split is empty: ${why} (${d.stage} gave ${counts})`,
    hints: [need, `to fix: ${fix}`, ...otherwise],
  };
}

/** The side of the tensors a resize stage writes, and that stage (its `params.size` sets it), as facts. */
export function tensorSizeFacts(stageId: string, size: number): Facts {
  return { tensors_size: size, tensors_stage: stageId };
}

/** The tensors' side and the stage that sets it, or null when not known. */
export function readTensorSize(facts: Facts | undefined): { size: number; stage: string } | null {
  const size = facts?.["tensors_size"];
  const stage = facts?.["tensors_stage"];
  return typeof size === "number" && typeof stage === "string" ? { size, stage } : null;
}

/** A data stage's facts: its metrics, with the dataset facts of its input passed on (changed by `change`). */
export function passDatasetFacts(input: Facts | undefined, metrics: Facts | null, change: (d: DatasetFacts) => DatasetFacts = (d) => d): Facts {
  const d = readDatasetFacts(input);
  return { ...(metrics ?? {}), ...(d ? datasetFacts(change(d)) : {}) };
}
