/**
 * `load`: reads a sclera dataset in one of the known layouts (or generates a synthetic
 * one), checks every image/mask pair, assigns train/val/test and writes the dataset
 * manifest that every later data stage reads.
 *
 * Output `dataset/`: `manifest.json` (DatasetManifest) and `report.json` (LoadReport:
 * skipped items with reasons, ignored files, counts). Source files are only read.
 *
 * The work itself lives in load-run.ts, imported inside `run`, so loading the stage
 * registry never loads sharp.
 */
import { defineStageType } from "../../pipeline/stage.js";
import { loadParamsSchema, sourceFolders, withDefaults, type LoadParams } from "./load-params.js";
import { SOURCE_LAYOUTS } from "./sources/layouts.js";
import { loadFacts } from "./dataset-facts.js";

export const loadStage = defineStageType<LoadParams>({
  name: "load",
  version: 1,
  description: `Reads a sclera dataset (${SOURCE_LAYOUTS.map((layout) => layout.kind).join(", ")}), checks it and splits it`,
  paramsSchema: loadParamsSchema,
  inputs: {},
  outputs: {
    dataset: { description: "A dataset folder: manifest.json (items with splits) and report.json (skipped and ignored files)" },
  },
  usesSeed: true,
  externalInputs(params, baseDir) {
    return sourceFolders(params, baseDir);
  },
  // Split counts for the stages that read the splits to check before they run (dataset-facts.ts).
  facts: ({ stageId, params, metrics }) => loadFacts(stageId, withDefaults(params), metrics),
  async run(ctx) {
    const { runLoad } = await import("./load-run.js");
    return runLoad(ctx);
  },
});
