// The markdown of `npm run bench:deploy` (bench/deploy.mjs): one table of format x
// quantisation per model, then the machine, versions, method and the exact command.

const LATENCY_COLUMNS = [
  ["tflite", "TFLite interpreter"],
  ["onnx", "onnxruntime-node"],
  ["tfjsNode", "tfjs-node"],
  ["wasm", "Chromium wasm"],
  ["webgl", "Chromium webgl (SwiftShader)"],
];

const kib = (bytes) => (typeof bytes === "number" ? (bytes / 1024).toFixed(1) : "-");
const f1 = (value) => (typeof value === "number" ? value.toFixed(4) : "-");
/** Signed to 4 decimals; a change that rounds to zero shows as 0.0000 (no sign), the reference row as "ref.". */
const delta = (value) => {
  if (value === "reference") return "ref.";
  if (typeof value !== "number") return "-";
  const shown = Math.abs(value).toFixed(4);
  return shown === "0.0000" ? shown : `${value > 0 ? "+" : "−"}${shown}`;
};
const ms = (value) => (typeof value === "number" ? value.toFixed(value < 10 ? 2 : 1) : "-");

/** One model's table: rows are { label, bytes, f1, deltaF1 (a number, "reference" or null), ms: { tflite?, onnx?, tfjsNode?, wasm?, webgl? } }. */
export function modelTable(rows) {
  const header = ["format (quantisation)", "size KiB", "F1 test", "ΔF1 vs TF.js", ...LATENCY_COLUMNS.map(([, name]) => `ms/image ${name}`)];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const row of rows) {
    const cells = [row.label, kib(row.bytes), f1(row.f1), delta(row.deltaF1), ...LATENCY_COLUMNS.map(([key]) => ms(row.ms[key]))];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The whole file: a section per model (title, table, notes), then machine, versions, method and command. */
export function deployReport({ date, machine, versions, command, models, method }) {
  const parts = [`# Deployment benchmark (${date})`, ""];
  for (const model of models) {
    parts.push(`## ${model.title}`, "", modelTable(model.rows), "");
    for (const note of model.notes) parts.push(`- ${note}`);
    if (model.notes.length > 0) parts.push("");
  }
  parts.push("## How it was measured", "");
  for (const line of method) parts.push(`- ${line}`);
  parts.push("", `Machine: ${machine}.`, "", `Versions: ${versions}.`, "", "Command:", "", "```", command, "```", "");
  return parts.join("\n");
}
