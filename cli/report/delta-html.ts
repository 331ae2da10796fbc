/** A metric's change on a page, coloured by whether it is better or worse. */
import type { Delta } from "../output/comparison.js";
import { formatDelta } from "../output/comparison.js";
import { judgeChange } from "../output/metric-direction.js";
import { escapeHtml } from "./html.js";

/** A change against the first run, green when better and red when worse for the metric's direction (purple when it has none). */
export function deltaSpan(key: string, delta: Delta, parentheses = true): string {
  const judged = judgeChange(key, delta.absolute);
  const text = escapeHtml(formatDelta(delta));
  return `<span class="delta${judged ? ` ${judged}` : ""}"${judged ? ` title="${judged}"` : ""}>${parentheses ? `(${text})` : text}</span>`;
}
