/**
 * Stage sections as HTML: charts become canvases (their numbers go to the page's data
 * block), tables and notes become markup, images become embedded thumbnails.
 */
import { unreachable } from "../../pipeline/failure.js";
import type { ReportBlock, ReportChart, ReportImageGrid, ReportTable } from "../../pipeline/report-section.js";
import { formatNumber } from "../output/format.js";
import { chartKey, type PageChart } from "./chart-data.js";
import { escapeHtml, htmlTable } from "./html.js";
import type { StageSections } from "./stage-sections.js";
import { thumbnail } from "./thumbnails.js";

export interface SectionsHtml {
  readonly html: string;
  readonly charts: Record<string, PageChart>;
}

/** `toPageChart` decides how a stage's chart is drawn (one run's colours, or several runs overlaid). */
export async function renderStageSections(stages: readonly StageSections[], toPageChart: (stageId: string, chart: ReportChart) => PageChart): Promise<SectionsHtml> {
  const charts: Record<string, PageChart> = {};
  const parts: string[] = [];
  for (const stage of stages) {
    for (const section of stage.sections) {
      const blocks: string[] = [];
      // Consecutive charts share a grid row.
      let chartRun: string[] = [];
      const flushCharts = (): void => {
        if (chartRun.length > 0) blocks.push(`<div class="charts">${chartRun.join("")}</div>`);
        chartRun = [];
      };
      for (const block of section.blocks) {
        if (block.kind === "chart") {
          const key = chartKey(stage.stageId, block.id);
          charts[key] = toPageChart(stage.stageId, block);
          chartRun.push(canvasHtml(key, block.title));
          continue;
        }
        flushCharts();
        blocks.push(await blockHtml(block));
      }
      flushCharts();
      parts.push(
        `<section class="stage-section" data-stage="${escapeHtml(stage.stageId)}">\n<h2>${escapeHtml(stage.stageId)} <span class="note">(${escapeHtml(stage.uses)})</span>: ${escapeHtml(section.title)}</h2>\n${blocks.join("\n")}\n</section>`,
      );
    }
  }
  return { html: parts.join("\n"), charts };
}

/** `tall` leaves room for the longer legend of several runs' series. */
export function canvasHtml(key: string, title: string, tall = false): string {
  return `<div class="chart${tall ? " tall" : ""}"><canvas data-chart="${escapeHtml(key)}" role="img" aria-label="${escapeHtml(title)}"></canvas></div>`;
}

async function blockHtml(block: Exclude<ReportBlock, ReportChart>): Promise<string> {
  switch (block.kind) {
    case "table":
      return tableHtml(block);
    case "images":
      return imagesHtml(block);
    case "note":
      return `<p class="note">${escapeHtml(block.text)}</p>`;
    default:
      return unreachable(block);
  }
}

function tableHtml(block: ReportTable): string {
  const numeric = block.columns.map((_, i) => i).filter((i) => block.rows.some((row) => typeof row[i] === "number"));
  const rows = block.rows.map((row) => row.map((cell) => (typeof cell === "number" ? formatNumber(cell) : cell)));
  return `${block.title ? `<h3>${escapeHtml(block.title)}</h3>` : ""}${htmlTable(block.columns, rows, { numeric })}`;
}

async function imagesHtml(block: ReportImageGrid): Promise<string> {
  const figures: string[] = [];
  for (const image of block.images) {
    try {
      const thumb = await thumbnail(image.file);
      figures.push(
        `<figure><img src="${thumb.src}" width="${thumb.width}" height="${thumb.height}" alt="${escapeHtml(image.caption)}"><figcaption>${escapeHtml(image.caption)}</figcaption></figure>`,
      );
    } catch (error) {
      figures.push(`<figure><figcaption>${escapeHtml(image.caption)}: cannot read ${escapeHtml(image.file)} (${escapeHtml(error instanceof Error ? error.message : String(error))})</figcaption></figure>`);
    }
  }
  return `<h3>${escapeHtml(block.title)}</h3>${figures.length > 0 ? `<div class="images">${figures.join("\n")}</div>` : '<p class="note">(none)</p>'}`;
}
