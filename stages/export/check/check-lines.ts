/** A self-check as lines for people: the CLI prints them after an export, the export stage logs them. */
import type { ExportCheckFile } from "./check-file.js";

/** What runs each checked format, for the latency line. */
const RUNTIME_NAMES = { tflite: "TFLite interpreter", onnx: "onnxruntime-node" } as const;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** A probability difference: exponent form below 0.001, so 5e-6 does not print as 0. */
export function formatDifference(value: number): string {
  return value === 0 ? "0" : value < 0.001 ? value.toExponential(1) : value.toFixed(4);
}

export function checkLines(check: ExportCheckFile, format: string, tfjsBackend?: string): string[] {
  const pixels = check.images > 0 ? check.maskDisagreements : 0;
  return [
    `size: ${formatBytes(check.bytes)} (TF.js weights ${formatBytes(check.tfjsWeightsBytes)})`,
    `F1 on ${check.images} test images at threshold ${check.threshold}: TF.js ${check.f1.tfjs.toFixed(4)}${tfjsBackend === undefined ? "" : ` (${tfjsBackend})`}, ${format} ${check.f1.exported.toFixed(4)}, drop ${check.f1.drop.toFixed(4)} (tolerance ${check.tolerance})`,
    `probability maps: max difference ${formatDifference(check.probabilityDifference.max)}, mean ${formatDifference(check.probabilityDifference.mean)}; ${pixels} pixels change mask`,
    ...(check.latencyMs === null ? [] : [`latency: ${check.latencyMs} ms per image (${RUNTIME_NAMES[format as keyof typeof RUNTIME_NAMES] ?? format}, 1 thread, batch 1)`]),
    `check: ${check.passed ? "passed" : "FAILED"}`,
  ];
}
