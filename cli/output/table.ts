/**
 * A tiny table renderer: aligned plain-text columns and GitHub markdown tables.
 *
 * Hand-written rather than a dependency: we need no borders, colours or wrapping, the
 * output must be byte-exact for tests, and the markdown form must share the same
 * column model. That is about forty lines; a library would add more than it saves.
 */

export interface Column {
  readonly header: string;
  /** Numbers read best right-aligned. Default left. */
  readonly align?: "left" | "right";
}

export interface TextTableOptions {
  /** Spaces between columns (default 2). */
  readonly gap?: number;
  /** Prefix for every line (default none). */
  readonly indent?: string;
}

/** Aligned columns, header first, no trailing spaces; each line ends with `\n`. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], options: TextTableOptions = {}): string {
  const gap = " ".repeat(options.gap ?? 2);
  const indent = options.indent ?? "";
  const widths = columns.map((column, i) => Math.max(width(column.header), ...rows.map((row) => width(row[i] ?? ""))));
  const line = (cells: readonly string[]): string =>
    indent +
    columns
      .map((column, i) => {
        const cell = cells[i] ?? "";
        const padding = " ".repeat((widths[i] ?? 0) - width(cell));
        return column.align === "right" ? padding + cell : cell + padding;
      })
      .join(gap)
      .trimEnd() +
    "\n";
  return line(columns.map((c) => c.header)) + rows.map(line).join("");
}

/** A GitHub-flavoured markdown table; `|` inside cells is escaped, newlines become spaces. */
export function renderMarkdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeCell).join(" | ")} |\n`;
  const rule = `| ${columns.map((c) => (c.align === "right" ? "---:" : "---")).join(" | ")} |\n`;
  return line(columns.map((c) => c.header)) + rule + rows.map((row) => line(columns.map((_, i) => row[i] ?? ""))).join("");
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Display width; code points rather than UTF-16 units so `·` and `Δ` count as one. */
function width(text: string): number {
  return [...text].length;
}
