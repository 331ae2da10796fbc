/**
 * The `export` stage's params, schema, output names and the `exports.json` it writes: a
 * leaf module, so the stage, its runner and its report section import it without cycles.
 */
import type { ExportCheckFile } from "./check/check-file.js";

/** tfjs and keras are written as they are; the others are EXPORT_RUNNERS entries, checked on the test split. */
export const STAGE_EXPORT_FORMATS = ["tfjs", "keras", "tflite", "onnx"] as const;
export type StageExportFormat = (typeof STAGE_EXPORT_FORMATS)[number];
export const STAGE_QUANTIZATIONS = ["none", "float16", "int8"] as const;

export interface ExportStageParams {
  readonly formats: readonly StageExportFormat[];
  /** One file per quantisation, for each checked format that offers it (tflite: all three). */
  readonly quantize: readonly (typeof STAGE_QUANTIZATIONS)[number][];
  readonly tolerance: number;
  readonly calibration_images: number;
}

export const EXPORT_STAGE_OUTPUTS = { exports: "exports" } as const;
/** Inside the `exports` folder: what was written and what each self-check found. */
export const EXPORTS_JSON = "exports.json";
export const EXPORTS_JSON_VERSION = 1;

export interface ExportedFile {
  readonly format: StageExportFormat;
  readonly quantize: string;
  /** Relative to the `exports` folder (a folder for tfjs). */
  readonly file: string;
  /** The file's size (tfjs: weights.bin, what a browser downloads besides model.json). */
  readonly bytes: number;
  /** The self-check, for the formats that run one (tflite); null for the others. */
  readonly check: ExportCheckFile | null;
}

export interface ExportsFile {
  readonly version: typeof EXPORTS_JSON_VERSION;
  readonly files: readonly ExportedFile[];
}

export const exportStageParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    formats: {
      type: "array",
      items: { enum: [...STAGE_EXPORT_FORMATS] },
      minItems: 1,
      uniqueItems: true,
      default: ["tfjs", "tflite"],
      description: "What to write: tfjs (a TF.js folder for the browser), keras (.h5), tflite (phones; needs Python TensorFlow: `mu-pipe setup tensorflow`)",
    },
    quantize: {
      type: "array",
      items: { enum: [...STAGE_QUANTIZATIONS] },
      minItems: 1,
      uniqueItems: true,
      default: ["none", "int8"],
      description: "One tflite file per entry: none (float32), float16 (half the size), int8 (full-integer, uint8 camera bytes in and uint8 out)",
    },
    tolerance: {
      type: "number",
      minimum: 0,
      maximum: 1,
      default: 0.01,
      description: "Each tflite file checks itself on the test split; the stage fails when its F1 is lower than the TF.js model's by more than this",
    },
    calibration_images: { type: "integer", minimum: 1, default: 100, description: "int8: training images (flips included, spread evenly) to calibrate the quantisation on" },
  },
} as const;
