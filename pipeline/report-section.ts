/**
 * What a stage type adds to a run's `report.html`, as data. A stage type's optional
 * `report` hook (stage.ts) reads its own artifact and returns sections; the CLI lays
 * them out (charts with Chart.js, tables, thumbnails). Nothing here knows HTML, and
 * the engine knows nothing of what the numbers mean.
 */

/** One line of a chart: `y[i]` at `x[i]`; null is a gap (e.g. no validation loss). */
export interface ChartSeries {
  readonly label: string;
  readonly x: readonly number[];
  readonly y: readonly (number | null)[];
}

/** A point to point out, such as a chosen threshold or the best epoch. */
export interface ChartMarker {
  readonly label: string;
  readonly x: number;
  readonly y: number;
}

export interface ChartAxis {
  readonly label: string;
  readonly min?: number;
  readonly max?: number;
  /** `log` for values spanning decades (a learning rate). Default `linear`. */
  readonly scale?: "linear" | "log";
  /** Ticks only at whole numbers (epochs, counts). */
  readonly integer?: boolean;
}

export interface ReportChart {
  readonly kind: "chart";
  /**
   * Unique within the stage's sections (the report prefixes the stage id). Charts with
   * the same id in several runs are drawn over each other by `mu-pipe compare --format html`.
   */
  readonly id: string;
  readonly title: string;
  readonly x: ChartAxis;
  readonly y: ChartAxis;
  readonly series: readonly ChartSeries[];
  readonly markers?: readonly ChartMarker[];
}

export type TableCell = string | number | null;

export interface ReportTable {
  readonly kind: "table";
  readonly title?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly TableCell[])[];
}

export interface ReportImage {
  /** Absolute path of a JPEG or PNG; the report embeds a downscaled copy. */
  readonly file: string;
  readonly caption: string;
}

export interface ReportImageGrid {
  readonly kind: "images";
  readonly title: string;
  readonly images: readonly ReportImage[];
}

/** A sentence for the reader, e.g. why a part is missing. */
export interface ReportNote {
  readonly kind: "note";
  readonly text: string;
}

export type ReportBlock = ReportChart | ReportTable | ReportImageGrid | ReportNote;

export interface ReportSection {
  readonly title: string;
  readonly blocks: readonly ReportBlock[];
}
