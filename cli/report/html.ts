/**
 * Small pieces of HTML for the report pages: escaping, tables, fact lists, and the
 * page shell that inlines Chart.js, the CSS, the data block and the page script.
 */
import type { PageData } from "./chart-data.js";
import { PAGE_CSS, PAGE_SCRIPT, chartJsSource } from "./page-assets.js";

/** Text for an element body or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A raw HTML fragment (already escaped), as opposed to text to escape. */
export interface Html {
  readonly html: string;
}

export function raw(html: string): Html {
  return { html };
}

export type Cell = string | number | null | Html;

export interface TableOptions {
  /** Indexes of columns aligned right (numbers). */
  readonly numeric?: readonly number[];
  readonly className?: string;
  /** Extra class of each cell of a column, by column index. */
  readonly columnClass?: Readonly<Record<number, string>>;
}

export function htmlTable(columns: readonly string[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): string {
  const numeric = new Set(options.numeric ?? []);
  const cls = (i: number): string => {
    const names = [numeric.has(i) ? "num" : "", options.columnClass?.[i] ?? ""].filter(Boolean);
    return names.length > 0 ? ` class="${names.join(" ")}"` : "";
  };
  const head = columns.map((c, i) => `<th${cls(i)}>${escapeHtml(c)}</th>`).join("");
  const body = rows.map((row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${cellHtml(cell)}</td>`).join("")}</tr>`).join("\n");
  return `<table${options.className ? ` class="${options.className}"` : ""}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** `<dl>` of label -> value pairs. */
export function factList(facts: readonly (readonly [string, Cell])[]): string {
  return `<dl class="facts">${facts.map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${cellHtml(value)}</dd>`).join("")}</dl>`;
}

export function statusBadge(status: string, text = status): string {
  return `<span class="status status-${escapeHtml(status)}">${escapeHtml(text)}</span>`;
}

function cellHtml(cell: Cell): string {
  if (cell === null) return "-";
  if (typeof cell === "object") return cell.html;
  return escapeHtml(String(cell));
}

export interface PageParts {
  readonly title: string;
  /** The page's content, already HTML. */
  readonly body: string;
  readonly data: PageData;
}

/**
 * The whole page. The Content-Security-Policy lets nothing load from anywhere: the page
 * is one file, and a browser refuses any request it would make.
 */
export async function renderPage(parts: PageParts): Promise<string> {
  // `<` escaped so no string in the data can close the script element.
  const json = JSON.stringify(parts.data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mu-pipe">
<title>${escapeHtml(parts.title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
${parts.body}
<footer>Written by mu-pipe; charts drawn with Chart.js (MIT), included in this file.</footer>
</main>
<script type="application/json" id="report-data">${json}</script>
<script>
${await chartJsSource()}
</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
