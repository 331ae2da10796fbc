/**
 * `merge`: one dataset from two, e.g. a real data set (`dataset`) and synthetic close-ups
 * (`add`) to train on together. Every item keeps the split its own load stage gave it;
 * `add`'s items get `params.prefix` on their ids, subjects and artifact file paths, and
 * `params.attributes` (e.g. `{ kind: synthetic }`, to balance finetune's batches by).
 *
 * Like flip-augment it touches no pixel: one manifest out of two. Files inside either
 * input artifact (synthetic images) are hard-linked (else copied) into the output, `add`'s
 * under their prefixed paths, so the output holds everything its manifest refers to;
 * the user's files stay referenced relative to the experiment file, as stored.
 */
import path from "node:path";

import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import { MAX_ATTRIBUTE_VALUES, SPLIT_NAMES, passDatasetFacts, readDatasetFacts, type AttributeFacts, type DatasetFacts } from "./dataset-facts.js";
import type { DatasetItem, DatasetManifest, FileRef, Split } from "./dataset-manifest.js";
import { readDatasetManifest, writeDatasetManifest } from "./dataset-manifest-io.js";
import { artifactFilePaths, isArtifactFile, linkArtifactFiles } from "./link-artifact-files.js";
import { mergeParamsSchema, type MergeParams } from "./merge-params.js";

export type { MergeParams } from "./merge-params.js";

/** `add`'s items as they join: the kept splits, prefixed, with the attributes set. */
export function addedItems(add: DatasetManifest, params: MergeParams): DatasetItem[] {
  const kept = new Set<Split>(params.splits ?? SPLIT_NAMES);
  const { prefix } = params;
  const file = (ref: FileRef): FileRef => (isArtifactFile(ref) ? { ...ref, path: `${prefix}${ref.path}` } : ref);
  return add.items
    .filter((item) => kept.has(item.split))
    .map((item) => ({
      ...item,
      id: `${prefix}${item.id}`,
      image: file(item.image),
      mask: file(item.mask),
      // Subjects of two sources are different people, even where their names match.
      subject: item.subject === null ? null : `${prefix}${item.subject}`,
      attributes: { ...item.attributes, ...params.attributes },
      ...(item.augmentOf === undefined ? {} : { augmentOf: `${prefix}${item.augmentOf}` }),
    }));
}

/** The pure part of the stage: `dataset`'s items, then `add`'s (addedItems); throws naming a colliding id or file. */
export function mergeManifests(dataset: DatasetManifest, add: DatasetManifest, params: MergeParams): DatasetManifest {
  const added = addedItems(add, params);
  const ids = new Set(dataset.items.map((item) => item.id));
  for (const item of added) {
    if (ids.has(item.id)) {
      throw new Error(`merge: item id "${item.id}" is in both inputs (\`add\`'s ids get the prefix ${JSON.stringify(params.prefix)}); choose another params.prefix`);
    }
    ids.add(item.id);
  }
  const files = artifactFilePaths(dataset.items);
  for (const file of artifactFilePaths(added)) {
    if (files.has(file)) throw new Error(`merge: both input artifacts hold a file ${file} (\`add\`'s paths get the prefix ${JSON.stringify(params.prefix)}); choose another params.prefix`);
  }
  return { version: dataset.version, items: [...dataset.items, ...added], skipped: [...dataset.skipped, ...add.skipped] };
}

/** `dataset`'s facts with the counts of `add`'s kept splits added; the split explanations stay `dataset`'s. */
function mergedFacts(d: DatasetFacts, add: DatasetFacts, params: MergeParams): DatasetFacts {
  const splits = params.splits ?? SPLIT_NAMES;
  const plus = (counts: Readonly<Record<Split, number>>, extra: Readonly<Record<Split, number>>): Record<Split, number> =>
    Object.fromEntries(SPLIT_NAMES.map((split) => [split, counts[split] + (splits.includes(split) ? extra[split] : 0)])) as Record<Split, number>;
  return { ...d, originals: plus(d.originals, add.originals), copies: plus(d.copies, add.copies), attributes: mergedAttributes(d, add, params, plus) };
}

/** Both datasets' attribute counts, `add`'s with `params.attributes` set on every item; unknown when either side's are. */
function mergedAttributes(
  d: DatasetFacts,
  add: DatasetFacts,
  params: MergeParams,
  plus: (counts: Readonly<Record<Split, number>>, extra: Readonly<Record<Split, number>>) => Record<Split, number>,
): AttributeFacts | null {
  if (d.attributes === null || add.attributes === null) return null;
  const none = { train: 0, val: 0, test: 0 };
  const addCounts: Record<string, Readonly<Record<string, Readonly<Record<Split, number>>>>> = { ...add.attributes.counts };
  for (const [name, value] of Object.entries(params.attributes)) addCounts[name] = { [value]: add.originals };
  const names = [...new Set([...d.attributes.names, ...add.attributes.names, ...Object.keys(params.attributes)])].sort();
  const counts: Record<string, Record<string, Record<Split, number>>> = {};
  for (const name of names) {
    const ours = d.attributes.counts[name];
    const theirs = addCounts[name];
    // An attribute with no counts on a side that has it (too many values) has none merged.
    if ((ours === undefined && d.attributes.names.includes(name)) || (theirs === undefined && (add.attributes.names.includes(name) || name in params.attributes))) continue;
    const values = [...new Set([...Object.keys(ours ?? {}), ...Object.keys(theirs ?? {})])];
    if (values.length > MAX_ATTRIBUTE_VALUES) continue;
    counts[name] = Object.fromEntries(values.map((value) => [value, plus(ours?.[value] ?? none, theirs?.[value] ?? none)]));
  }
  return { names, counts };
}

export const mergeStage = defineStageType<MergeParams>({
  name: "merge",
  version: 1,
  description: "Adds the items of a second dataset (prefixed ids, optional attributes) to a dataset, each in its own split",
  paramsSchema: mergeParamsSchema,
  inputs: {
    dataset: { description: "A dataset folder with manifest.json (its items pass unchanged)" },
    add: { description: "A dataset folder with manifest.json whose items are added (prefixed, with `attributes` set)" },
  },
  outputs: { dataset: { description: "A dataset folder whose manifest.json lists the items of both" } },
  // The counts are known when both inputs' are; half of them would undercount a split.
  facts: ({ params, inputs, metrics }) => {
    const add = readDatasetFacts(inputs["add"]);
    if (add === null) return metrics ?? {};
    return passDatasetFacts(inputs["dataset"], metrics, (d) => mergedFacts(d, add, params));
  },
  async run(ctx: StageContext<MergeParams>) {
    const datasetDir = ctx.inputs["dataset"];
    const addDir = ctx.inputs["add"];
    if (datasetDir === undefined || addDir === undefined) throw new Error("merge: inputs `dataset` and `add` must both be connected");
    const dataset = await readDatasetManifest(datasetDir);
    const add = await readDatasetManifest(addDir);
    const output = mergeManifests(dataset, add, ctx.params);
    const added = output.items.slice(dataset.items.length);
    const outputDir = path.join(ctx.outDir, "dataset");
    await writeDatasetManifest(outputDir, output);
    await linkArtifactFiles(dataset.items, datasetDir, outputDir);
    const kept = new Set(ctx.params.splits ?? SPLIT_NAMES);
    await linkArtifactFiles(add.items.filter((item) => kept.has(item.split)), addDir, outputDir, (file) => `${ctx.params.prefix}${file}`);
    const perSplit = SPLIT_NAMES.map((split) => `${split} ${added.filter((item) => item.split === split).length}`).join(", ");
    const attributes = Object.entries(ctx.params.attributes).map(([key, value]) => `${key}=${value}`).join(", ");
    ctx.log(`added ${added.length} items (${perSplit}) as ${ctx.params.prefix}<id>${attributes === "" ? "" : ` with ${attributes}`} to ${dataset.items.length}`);
    return { metrics: { items_before: dataset.items.length, items_added: added.length, items_after: output.items.length } };
  },
});
