/**
 * The `augment` stage in a run report: its preview.png (originals beside their first
 * augmented copies) and the range of each value drawn over all copies, read from the
 * output manifest.
 */
import { access } from "node:fs/promises";
import path from "node:path";

import type { ReportBlock, ReportSection, TableCell } from "../../pipeline/report-section.js";
import type { StageReportContext } from "../../pipeline/stage.js";
import { PREVIEW_FILE } from "./augment-params.js";
import { readDatasetManifest } from "./dataset-manifest-io.js";
import type { Augmentation } from "./dataset-manifest.js";

/** The drawn values the table shows, in the order they are applied. */
const VALUES: readonly (keyof Augmentation)[] = ["rotate", "scale", "tx", "ty", "brightness", "contrast", "gamma", "hue", "saturation", "blur", "noise", "jpeg"];

export async function augmentReport(ctx: StageReportContext): Promise<ReportSection[]> {
  const datasetDir = ctx.outputs["dataset"];
  if (datasetDir === undefined) return [];
  const draws = (await readDatasetManifest(datasetDir)).items.flatMap((item) => (item.transform?.augment === undefined ? [] : [item.transform.augment]));
  const preview = path.join(path.dirname(datasetDir), PREVIEW_FILE);
  const blocks: ReportBlock[] = [];
  if (await exists(preview)) {
    blocks.push({ kind: "images", title: "Preview", images: [{ file: preview, caption: "each row: an original, then its first augmented copies" }] });
    blocks.push({ kind: "note", text: `As resize renders them (here at 128 px), sclera outlined in green. Full size: ${preview}` });
  } else {
    blocks.push({ kind: "note", text: "No item of the chosen splits got copies, so there is no preview." });
  }
  if (draws.length > 0) blocks.push({ kind: "table", title: `Values drawn for ${draws.length} copies`, columns: ["value", "min", "max", "copies using it"], rows: VALUES.map((key) => valueRow(key, draws)) });
  return [{ title: `Augmentation (${draws.length} copies)`, blocks }];
}

/** min and max of one value over the copies, and how many copies it changes (blur and JPEG: how many have them). */
function valueRow(key: keyof Augmentation, draws: readonly Augmentation[]): TableCell[] {
  const identity = key === "scale" || key === "brightness" || key === "contrast" || key === "gamma" || key === "saturation" ? 1 : 0;
  const values = draws.map((draw) => draw[key]).filter((value): value is number => value !== null);
  const used = values.filter((value) => value !== identity).length;
    // reduce, not Math.min(...values): a dataset may have more copies than a call takes arguments.
  return values.length === 0 ? [key, null, null, 0] : [key, values.reduce((a, b) => Math.min(a, b)), values.reduce((a, b) => Math.max(a, b)), used];
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
