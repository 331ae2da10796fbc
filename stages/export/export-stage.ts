/**
 * `export`: the deployable files of a trained model at the end of an experiment: a TF.js
 * folder, a Keras .h5 and TFLite files (one per quantisation), each TFLite file checked
 * on the test split against the TF.js model before the stage succeeds. Cached like any
 * stage: the same model, tensors and params reuse the files.
 *
 * This module only declares the stage; TensorFlow and Python run inside `run`.
 */
import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import { emptySplitProblem, itemCount, readDatasetFacts } from "../data/dataset-facts.js";
import { EXPORT_STAGE_OUTPUTS, exportStageParamsSchema, type ExportStageParams } from "./export-stage-params.js";
import { converterInputs } from "./tflite/python-tensorflow.js";

export const exportStage = defineStageType<ExportStageParams>({
  name: "export",
  version: 1,
  description: "Writes the model as TF.js, Keras and TFLite files, each TFLite file checked on the test split",
  paramsSchema: exportStageParamsSchema,
  inputs: {
    model: { description: "A model folder: a threshold stage's `model` (with its threshold) or a finetune stage's `best`" },
    tensors: { description: "The `tensors` output of a resize stage: its test split checks the exports, its training images calibrate int8" },
  },
  outputs: {
    [EXPORT_STAGE_OUTPUTS.exports]: { description: "The exported files, a README and a .check.json per tflite file, and exports.json listing them" },
  },
  usesBackend: true,
  // The TFLite files are what Python's TensorFlow converter makes of the model: its version joins the key.
  externalInputs: (params) => (params.formats.includes("tflite") ? converterInputs() : []),
  preflight({ stageId, params, inputs }) {
    const d = readDatasetFacts(inputs["tensors"]);
    if (d === null || !params.formats.includes("tflite")) return [];
    const problems = [];
    if (itemCount(d, "test", false) === 0) {
      problems.push(emptySplitProblem(d, "test", "each tflite export checks itself on the test split", [`or export without tflite: stages.${stageId}.params.formats`]));
    }
    if (params.quantize.includes("int8") && itemCount(d, "train", true) === 0) {
      problems.push(emptySplitProblem(d, "train", "int8 quantisation is calibrated on training images", [`or leave int8 out: stages.${stageId}.params.quantize`]));
    }
    return problems;
  },
  async run(ctx: StageContext<ExportStageParams>) {
    const { runExportStage } = await import("./run-export-stage.js");
    return runExportStage(ctx);
  },
  async report(ctx) {
    const { exportReport } = await import("./export-report.js");
    return exportReport(ctx);
  },
});
