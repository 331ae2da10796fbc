/**
 * `augment`: adds `copies` randomly transformed copies of every item of the chosen
 * splits: a geometric warp that moves image and mask together (rotation, zoom, shift)
 * and photometric changes to the image (brightness, contrast, gamma, hue, saturation,
 * blur, noise, JPEG artefacts).
 *
 * Lazy, as flip-augment: each copy points at its original's files and carries
 * `transform.augment`, the values drawn for it (augment-draw.ts); `resize` applies them
 * to the resized pixels (augment-ops.ts). The one thing this stage renders is
 * preview.png beside its `dataset` output: a few originals with their first copies,
 * so `mu-pipe run <config> --until <this stage>` shows what the params do.
 */
import path from "node:path";

import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import { addAugmentations } from "./augment-draw.js";
import { augmentParamProblems, augmentParamsSchema, checkAugmentParams, PREVIEW_FILE, type AugmentParams } from "./augment-params.js";
import { passDatasetFacts } from "./dataset-facts.js";
import { readDatasetManifest, writeDatasetManifest } from "./dataset-manifest-io.js";
import { linkArtifactFiles } from "./link-artifact-files.js";

export type { AugmentParams } from "./augment-params.js";

export const augmentStage = defineStageType<AugmentParams>({
  name: "augment",
  version: 1,
  description: "Adds seeded, randomly transformed copies (geometric + photometric, mask kept aligned) of the items of the chosen splits; resize renders them",
  paramsSchema: augmentParamsSchema,
  inputs: { dataset: { description: "A dataset folder with manifest.json" } },
  outputs: { dataset: { description: `A dataset folder whose manifest.json also lists the augmented copies (${PREVIEW_FILE} beside it shows some)` } },
  usesSeed: true,
  // Each item of an augmented split gets `copies` copies; mirrored copies too with include_augmented.
  facts: ({ params, inputs, metrics }) =>
    passDatasetFacts(inputs["dataset"], metrics, (d) => ({
      ...d,
      copies: {
        ...d.copies,
        ...Object.fromEntries(params.splits.map((split) => [split, d.copies[split] + (d.originals[split] + (params.include_augmented ? d.copies[split] : 0)) * params.copies])),
      },
    })),
  preflight: ({ stageId, params }) =>
    augmentParamProblems(params).map((problem) => ({ keyPath: `stages.${stageId}.params.${problem.key}`, message: problem.message })),
  async run(ctx: StageContext<AugmentParams>) {
    checkAugmentParams(ctx.params);
    const inputDir = ctx.inputs["dataset"];
    if (inputDir === undefined) throw new Error("augment: input `dataset` is not connected");
    const input = await readDatasetManifest(inputDir);
    const output = addAugmentations(input, ctx.params, ctx.seed);
    const outputDir = path.join(ctx.outDir, "dataset");
    await writeDatasetManifest(outputDir, output);
    await linkArtifactFiles(input.items, inputDir, outputDir);
    const added = output.items.length - input.items.length;
    ctx.log(`added ${added} augmented items (${ctx.params.copies} per item) to ${ctx.params.splits.join(", ")}`);

    const { writeAugmentPreview } = await import("./augment-preview.js");
    const preview = await writeAugmentPreview(path.join(ctx.outDir, PREVIEW_FILE), output, outputDir, ctx.baseDir);
    ctx.log(preview === null ? "no item has copies: no preview" : `wrote ${PREVIEW_FILE} (${preview.rows} originals with ${preview.columns - 1} copies each)`);
    return {
      metrics: {
        items_before: input.items.length,
        items_after: output.items.length,
        // For `mu-pipe show`: the file in the stage's artifact folder (not a run path:
        // the result may be reused under another stage id).
        preview: preview === null ? null : PREVIEW_FILE,
      },
    };
  },
  async report(ctx) {
    const { augmentReport } = await import("./augment-report.js");
    return augmentReport(ctx);
  },
});
