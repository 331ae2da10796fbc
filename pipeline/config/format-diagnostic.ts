/**
 * A diagnostic as the text the CLI prints (the CLI does the printing):
 *
 *     configs/quickstart.yaml:12:11 - error: stages.finetune2.params.lr: expected number, found string "fast"
 *
 *       12 |       lr: fast
 *          |           ~~~~
 *       hint: did you mean `params`?
 *
 * A span over several lines is underlined to the end of its first line. No trailing
 * newline; with `color` the header, underline and hints get ANSI colours.
 */
import type { Diagnostic, SourceSpan } from "../failure.js";

export interface FormatOptions {
  readonly color?: boolean;
}

const ANSI = { bold: "\u001b[1m", red: "\u001b[31m", cyan: "\u001b[36m", dim: "\u001b[2m", reset: "\u001b[0m" } as const;

export function formatDiagnostic(d: Diagnostic, options: FormatOptions = {}): string {
  const paint = (style: keyof typeof ANSI, text: string): string => (options.color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  const where = d.span ? `${d.span.file}:${d.span.start.line}:${d.span.start.column}` : d.file;
  const what = d.keyPath === "" ? d.message : `${d.keyPath}: ${d.message}`;
  const lines = [`${paint("bold", where)} - ${paint("red", "error")}: ${what}`];
  if (d.span) lines.push("", ...excerpt(d.span, paint));
  for (const hint of d.hints ?? []) lines.push(`  ${paint("cyan", "hint")}: ${hint}`);
  return lines.join("\n");
}

function excerpt(span: SourceSpan, paint: (style: keyof typeof ANSI, text: string) => string): string[] {
  const { line, column } = span.start;
  const source = (span.text.split("\n")[line - 1] ?? "").replace(/\r$/, "");
  const lastColumn = span.end.line === line ? span.end.column : source.length + 1;
  const width = Math.max(1, lastColumn - column);
  const gutter = String(line);
  // Copy tabs from the source line so the underline lines up however tabs are shown.
  const indent = source.slice(0, column - 1).replace(/[^\t]/g, " ");
  return [
    `  ${paint("dim", `${gutter} |`)} ${source}`,
    `  ${paint("dim", `${" ".repeat(gutter.length)} |`)} ${indent}${paint("red", "~".repeat(width))}`,
  ];
}
