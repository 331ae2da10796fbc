/**
 * `flip-augment`: adds the mirror image of every item of the chosen splits.
 *
 * Lazy: no pixel is touched here. Each new item points at its original's files and
 * carries `transform: { flip }`; the `resize` stage applies it when it materialises
 * the tensors. So this stage costs one manifest read and one manifest write.
 *
 * Paths are copied as they are (see dataset-manifest.ts): the user's files stay
 * relative to the experiment file. Files inside the input artifact (synthetic images)
 * are hard-linked (else copied) into the output at the same relative path, so the
 * output holds everything its manifest refers to and no path leads into another
 * artifact's folder, which the store may keep anywhere.
 */
import path from "node:path";

import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import type { DatasetItem, DatasetManifest } from "./dataset-manifest.js";
import { flipAugmentParamsSchema, type Flip, type FlipAugmentParams } from "./flip-augment-params.js";
import { readDatasetManifest, writeDatasetManifest } from "./dataset-manifest-io.js";
import { linkArtifactFiles } from "./link-artifact-files.js";
import { passDatasetFacts } from "./dataset-facts.js";

export type { Flip, FlipAugmentParams } from "./flip-augment-params.js";

/** Suffix of an augmented item's id: `<id>_fliph` or `<id>_flipv`. */
export function flippedId(id: string, flip: Flip): string {
  return `${id}_flip${flip === "horizontal" ? "h" : "v"}`;
}

/**
 * The pure part of the stage: the output manifest, whose paths are the input's. Items that already carry a transform (a flip, or
 * an augmentation: put flip-augment before augment, which augments mirrored items too) are not mirrored again.
 */
export function addFlips(input: DatasetManifest, params: FlipAugmentParams): DatasetManifest {
  const splits = new Set(params.splits);
  const ids = new Set(input.items.map((item) => item.id));
  const items: DatasetItem[] = [];
  for (const item of input.items) {
    items.push(item);
    if (!splits.has(item.split) || item.transform !== undefined) continue;
    for (const flip of params.flips) {
      const id = flippedId(item.id, flip);
      if (ids.has(id)) throw new Error(`flip-augment: item id "${id}" already exists in the input manifest`);
      ids.add(id);
      items.push({ ...item, id, transform: { flip }, augmentOf: item.id });
    }
  }
  return { ...input, items };
}

export const flipAugmentStage = defineStageType<FlipAugmentParams>({
  name: "flip-augment",
  version: 1,
  description: "Adds mirrored copies of the items of the chosen splits (lazily: resize applies the flip)",
  paramsSchema: flipAugmentParamsSchema,
  inputs: { dataset: { description: "A dataset folder with manifest.json" } },
  outputs: { dataset: { description: "A dataset folder whose manifest.json also lists the mirrored items" } },
  // Each original of a mirrored split gets one copy per flip (copies are not mirrored again).
  facts: ({ params, inputs, metrics }) =>
    passDatasetFacts(inputs["dataset"], metrics, (d) => ({
      ...d,
      copies: { ...d.copies, ...Object.fromEntries(params.splits.map((split) => [split, d.copies[split] + d.originals[split] * params.flips.length])) },
    })),
  async run(ctx: StageContext<FlipAugmentParams>) {
    const inputDir = ctx.inputs["dataset"];
    if (inputDir === undefined) throw new Error("flip-augment: input `dataset` is not connected");
    const input = await readDatasetManifest(inputDir);
    const output = addFlips(input, ctx.params);
    const outputDir = path.join(ctx.outDir, "dataset");
    await writeDatasetManifest(outputDir, output);
    await linkArtifactFiles(input.items, inputDir, outputDir);
    const added = output.items.length - input.items.length;
    ctx.log(`added ${added} mirrored items (${ctx.params.flips.join(", ")}) to ${ctx.params.splits.join(", ")}`);
    return { metrics: { items_before: input.items.length, items_after: output.items.length } };
  },
});
