/**
 * The `export` stage's work, loaded only when it runs.
 */
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";

import type { Metrics, StageContext, StageOutcome } from "../../pipeline/stage.js";
import { WEIGHTS_BIN } from "../model/model-folder.js";
import { backendEnvironment, initBackend, type BackendRequest } from "../runtime/backend.js";
import { stopPoint } from "../runtime/stop-point.js";
import { checkLines } from "./check/check-lines.js";
import { checkedExport } from "./check/checked-export.js";
import { EXPORT_RUNNERS, type CheckedFormat } from "./check/runners.js";
import { exportModel } from "./export-model.js";
import { EXPORTS_JSON, EXPORTS_JSON_VERSION, EXPORT_STAGE_OUTPUTS, type ExportStageParams, type ExportedFile, type ExportsFile } from "./export-stage-params.js";

export const EXPORTED_BY_STAGE = "mu-pipe export stage v1";

export async function runExportStage(ctx: StageContext<ExportStageParams>): Promise<StageOutcome> {
  const started = performance.now();
  const { params } = ctx;
  const modelDir = ctx.inputs["model"];
  const tensorsDir = ctx.inputs["tensors"];
  if (modelDir === undefined) throw new Error("export: input `model` is not connected");
  if (tensorsDir === undefined) throw new Error("export: input `tensors` is not connected");

  const backend = await initBackend(ctx.runtime.backend as BackendRequest, { purpose: "infer", threads: ctx.runtime.threads, log: ctx.log });
  ctx.log(`backend: ${backend.name} (${backend.detail})`);
  const dir = path.join(ctx.outDir, EXPORT_STAGE_OUTPUTS.exports);
  const files: ExportedFile[] = [];
  // Formats with a runner check themselves, one file per quantisation the format offers.
  const checked = params.formats.flatMap((format) =>
    isCheckedFormat(format) ? params.quantize.filter((q) => (EXPORT_RUNNERS[format].quantizations as readonly string[]).includes(q)).map((quantize) => ({ format, quantize })) : [],
  );
  const plain = params.formats.filter((f): f is "tfjs" | "keras" => f === "tfjs" || f === "keras");
  const total = plain.length + checked.length;
  ctx.progress({ current: 0, total, unit: "files" });

  for (const format of plain) {
    await stopPoint(ctx.signal);
    const out = path.join(dir, format === "tfjs" ? "tfjs" : "mu_net.h5");
    await exportModel({ modelDir, format, out, exportedBy: EXPORTED_BY_STAGE });
    const bytes = (await stat(format === "tfjs" ? path.join(out, WEIGHTS_BIN) : out)).size;
    files.push({ format, quantize: "none", file: path.relative(dir, out), bytes, check: null });
    ctx.log(`wrote ${path.relative(dir, out)} (${bytes} bytes)`);
    ctx.progress({ current: files.length, total, unit: "files" });
  }
  const failed: string[] = [];
  for (const { format, quantize } of checked) {
    await stopPoint(ctx.signal);
    ctx.progress({ message: `${format} ${quantize}`, current: files.length, total, unit: "files" });
    const name = `mu_net_${quantize}${EXPORT_RUNNERS[format].extension}`;
    const result = await checkedExport({
      modelDir,
      tensorsDir,
      format,
      quantize,
      out: path.join(dir, name),
      tolerance: params.tolerance,
      calibrationImages: params.calibration_images,
      onStep: ctx.log,
    });
    const { check } = result;
    ctx.log(`${name}:`);
    for (const line of checkLines(check, format, backend.name)) ctx.log(`  ${line}`);
    files.push({ format, quantize, file: name, bytes: check.bytes, check });
    if (!check.passed) failed.push(`${name}: ${check.note ?? "check failed"}`);
    ctx.progress({ current: files.length, total, unit: "files" });
  }
  if (failed.length > 0) {
    throw new Error(`${failed.join("\n")}\n(raise stages.${ctx.stageId}.params.tolerance, or leave that quantisation out of stages.${ctx.stageId}.params.quantize)`);
  }

  const record: ExportsFile = { version: EXPORTS_JSON_VERSION, files };
  await writeFile(path.join(dir, EXPORTS_JSON), `${JSON.stringify(record, null, 2)}\n`);
  return { metrics: exportMetrics(files, (performance.now() - started) / 1000), environment: backendEnvironment(backend) };
}

/** Flat metrics: `<format>[_<quantize>]_bytes`, and for checked files `_f1`, `_f1_drop`, `_ms`; `tfjs_f1` once. */
export function exportMetrics(files: readonly ExportedFile[], seconds: number): Metrics {
  const metrics: Record<string, number> = {};
  for (const file of files) {
    const name = file.check === null ? file.format : `${file.format}_${file.quantize}`;
    metrics[`${name}_bytes`] = file.bytes;
    if (file.check === null) continue;
    metrics["tfjs_f1"] = file.check.f1.tfjs;
    metrics[`${name}_f1`] = file.check.f1.exported;
    metrics[`${name}_f1_drop`] = file.check.f1.drop;
    if (file.check.latencyMs !== null) metrics[`${name}_ms`] = file.check.latencyMs;
  }
  metrics["seconds"] = Math.round(seconds * 1000) / 1000;
  return metrics;
}

function isCheckedFormat(format: string): format is CheckedFormat {
  return Object.hasOwn(EXPORT_RUNNERS, format);
}
