/**
 * What every report page carries inline, so it opens from disk with no network: the
 * Chart.js UMD build, a little CSS, and the script that turns the page's JSON data
 * block into charts. The script is plain browser JavaScript kept as text (it runs in
 * the page, not here); its input is the `PageData` of chart-data.ts.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

/** Chart.js's own UMD bundle (it defines `window.Chart`), without its source-map comment. */
export async function chartJsSource(): Promise<string> {
  // The package's exports do not list dist/chart.umd.js; it sits beside the main entry.
  const main = createRequire(import.meta.url).resolve("chart.js");
  const text = await readFile(path.join(path.dirname(main), "chart.umd.js"), "utf8");
  return text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
}

/** Okabe-Ito colours (told apart with most kinds of colour blindness); a series' `colour` indexes them. */
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#8c7a00", "#222222"] as const;
export const MARKER_COLOUR = PALETTE.length - 1;

export const PAGE_CSS = `
:root { --fg: #1d2127; --muted: #5f6670; --line: #d9dde3; --card: #fff; --bg: #f4f5f7; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1240px; margin: 0 auto; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 8px; color: var(--muted); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.status { display: inline-block; white-space: nowrap; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; color: #fff; background: #6b7280; }
.status-succeeded, .status-ran { background: #1a7f37; }
.status-reused { background: #0969da; }
.status-failed, .status-died { background: #cf222e; }
.status-interrupted, .status-running { background: #9a6700; }
table { border-collapse: collapse; margin: 4px 0 8px; font-variant-numeric: tabular-nums; }
table.wide { width: 100%; }
td.barcell { width: 22%; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
.error { color: #cf222e; }
.delta { color: #8250df; }
.delta.better { color: #1a7f37; }
.delta.worse { color: #cf222e; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; }
.bar { height: 8px; background: #0072b2; border-radius: 2px; min-width: 1px; }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow: auto; max-height: 420px; }
.metric-grid { column-width: 300px; column-gap: 28px; }
.metric-grid.with-previous { column-width: 480px; }
.metric-grid > div { break-inside: avoid; overflow-x: auto; }
.metric-grid h3 { margin-top: 0; padding-top: 8px; }
.metric-grid table { width: 100%; }
.nowrap { white-space: nowrap; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; }
.chart { position: relative; height: 320px; }
.chart.tall { height: 440px; }
.images { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px; }
figure { margin: 0; }
figure img { width: 100%; height: auto; display: block; border-radius: 4px; border: 1px solid var(--line); }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; overflow-wrap: anywhere; }
.note { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`;

/** Reads `#report-data` and draws each `<canvas data-chart="id">` from `data.charts[id]`. */
export const PAGE_SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ${JSON.stringify(PALETTE)};
  var dashes = [[], [6, 4], [2, 3], [12, 4, 2, 4]];
  function colour(i) { return palette[i % palette.length]; }
  function points(xs, ys) { return xs.map(function (x, i) { return { x: x, y: ys[i] }; }); }
  function axis(spec) {
    var a = { type: spec.scale === "log" ? "logarithmic" : "linear", title: { display: true, text: spec.label } };
    if (spec.min !== undefined) a.min = spec.min;
    if (spec.max !== undefined) a.max = spec.max;
    if (spec.integer) a.ticks = { precision: 0 };
    if (spec.scale === "log") a.ticks = { callback: logTick };
    if (spec.categories) {
      a.offset = true;
      a.ticks = { stepSize: 1, callback: function (v) { return spec.categories[v] !== undefined ? spec.categories[v] : ""; } };
    }
    return a;
  }
  // A log axis labels 1, 2, 3 and 5 times a power of ten; Chart.js would label every minor tick.
  function logTick(value) {
    var mantissa = value / Math.pow(10, Math.floor(Math.log10(value)));
    var keep = [1, 2, 3, 5].some(function (k) { return Math.abs(mantissa - k) < 1e-6; });
    return keep ? String(Number(value.toPrecision(3))) : "";
  }
  // Lines show in the legend as short lines in their dash pattern; markers as their cross.
  function legendLabels(chart) {
    var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
    items.forEach(function (item) {
      var dataset = chart.data.datasets[item.datasetIndex];
      if (dataset.type === "scatter") return;
      item.pointStyle = "line";
      item.lineDash = dataset.borderDash;
      item.lineWidth = dataset.borderWidth;
    });
    return items;
  }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = data.charts[canvas.getAttribute("data-chart")];
    if (!spec) return;
    var datasets = spec.series.map(function (s) {
      return {
        label: s.label,
        data: points(s.x, s.y),
        borderColor: colour(s.colour),
        backgroundColor: colour(s.colour),
        borderDash: dashes[s.dash % dashes.length],
        pointRadius: s.errorBar ? 0 : s.x.length > 40 ? 0 : 2.5,
        borderWidth: s.errorBar ? 1.5 : 2,
        errorBar: s.errorBar === true,
        clip: 6,
        spanGaps: false
      };
    });
    spec.markers.forEach(function (m) {
      datasets.push({
        type: "scatter",
        label: m.label,
        data: [{ x: m.x, y: m.y }],
        borderColor: colour(m.colour),
        backgroundColor: colour(m.colour),
        pointStyle: "crossRot",
        clip: false,
        pointRadius: 9,
        pointHoverRadius: 11,
        borderWidth: 3
      });
    });
    new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: false },
        scales: { x: axis(spec.x), y: axis(spec.y) },
        plugins: {
          title: { display: true, text: spec.title, font: { size: 13 } },
          legend: { position: "bottom", labels: { usePointStyle: true, pointStyleWidth: 28, boxHeight: 8, generateLabels: legendLabels, filter: function (item, data) { return !data.datasets[item.datasetIndex].errorBar; } } }
        }
      }
    });
  });
})();
`;
