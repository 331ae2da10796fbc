/**
 * The `evaluate` stage in a run report: per-image F1 (sorted) from `per-image.csv`,
 * and the overlays of the best and worst images by F1. A `predict` stage writes its
 * overlays beside the submission it hands to `evaluate` (`<artifact>/overlays/<name>.jpg`
 * for `<artifact>/submission/.../<name>.png`); without them the images are listed only.
 */
import { access, readdir } from "node:fs/promises";
import path from "node:path";

import type { ReportBlock, ReportImage, ReportSection } from "../../pipeline/report-section.js";
import type { StageReportContext } from "../../pipeline/stage.js";
import { CsvTable } from "../report/csv-table.js";
import { PREDICT_OUTPUTS } from "../predict/predict-params.js";
import { PER_IMAGE_FILE } from "./report.js";

/** Images shown at each end of the ranking. */
export const OVERLAYS_PER_END = 6;

interface ImageScore {
  readonly name: string;
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
}

export async function evaluateReport(ctx: StageReportContext): Promise<ReportSection[]> {
  const file = ctx.outputs[PER_IMAGE_FILE];
  if (file === undefined) return [];
  const table = await CsvTable.read(file);
  const names = table.text("name");
  const [f1, precision, recall] = ["f1", "precision", "recall"].map((column) => table.requiredNumbers(column));
  const scores: ImageScore[] = names.map((name, i) => ({ name, f1: f1?.[i] ?? 0, precision: precision?.[i] ?? 0, recall: recall?.[i] ?? 0 }));
  // Best first; equal F1 keeps file order so the report is stable.
  const ranked = scores.map((score, i) => ({ score, i })).sort((a, b) => b.score.f1 - a.score.f1 || a.i - b.i).map(({ score }) => score);
  const bestCount = Math.min(OVERLAYS_PER_END, Math.ceil(ranked.length / 2));
  const best = ranked.slice(0, bestCount);
  const worst = ranked.slice(bestCount).reverse().slice(0, OVERLAYS_PER_END);

  const blocks: ReportBlock[] = [
    {
      kind: "chart",
      id: "per-image-f1",
      title: "F1 of each image, worst to best",
      x: { label: "images ranked by F1", min: 1, max: Math.max(1, ranked.length), integer: true },
      y: { label: "F1", min: 0, max: 1 },
      series: [{ label: "F1 per image", x: ranked.map((_, i) => i + 1), y: ranked.map((s) => s.f1).reverse() }],
    },
  ];
  const overlays = await overlaysFolder(ctx.inputs["submission"]);
  if (overlays === null) {
    blocks.push({ kind: "note", text: "No overlays to show: set `overlays: true` on the predict stage to see the best and worst images." });
    blocks.push(rankingTable("Best images by F1", best), rankingTable("Worst images by F1", worst));
  } else {
    const images = async (list: readonly ImageScore[]): Promise<ReportImage[]> => {
      const found: ReportImage[] = [];
      for (const score of list) {
        const overlay = path.join(overlays, `${path.basename(score.name, path.extname(score.name))}.jpg`);
        if (await exists(overlay)) found.push({ file: overlay, caption: caption(score) });
      }
      return found;
    };
    blocks.push({ kind: "images", title: `Best ${best.length} by F1`, images: await images(best) });
    if (worst.length > 0) blocks.push({ kind: "images", title: `Worst ${worst.length} by F1`, images: await images(worst) });
    blocks.push({ kind: "note", text: "Predicted sclera tinted magenta, ground truth outlined in green." });
  }
  return [{ title: `Per image (${ranked.length} images)`, blocks }];
}

function caption(score: ImageScore): string {
  return `${score.name} · F1 ${score.f1.toFixed(3)} · precision ${score.precision.toFixed(3)} · recall ${score.recall.toFixed(3)}`;
}

function rankingTable(title: string, scores: readonly ImageScore[]): ReportBlock {
  return { kind: "table", title, columns: ["image", "F1", "precision", "recall"], rows: scores.map((s) => [s.name, s.f1, s.precision, s.recall]) };
}

/** The overlays a predict stage wrote next to this submission; null when there are none. */
async function overlaysFolder(submission: string | undefined): Promise<string | null> {
  if (submission === undefined) return null;
  const folder = path.join(path.dirname(submission), PREDICT_OUTPUTS.overlays);
  const names = await readdir(folder).catch(() => [] as string[]);
  return names.some((name) => name.endsWith(".jpg")) ? folder : null;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
