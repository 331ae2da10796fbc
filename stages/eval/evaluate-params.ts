/**
 * The params of the `evaluate` stage: their types, their JSON schema (whose defaults
 * `mu-pipe score` uses too) and the names of its outputs. Cheap to import.
 */
import { BREAKDOWN_FILE, PER_IMAGE_FILE, REPORT_FILE } from "./report.js";

export interface EvaluateParams {
  readonly protocol: "ssbc2020";
  readonly folds: number;
  /** [width, height] for scoring; null scores at each ground truth's own size. */
  readonly size: readonly [number, number] | null;
  /** Attributes to break down by; null: every attribute present. */
  readonly breakdown_by: readonly string[] | null;
}

export const EVALUATE_OUTPUTS = {
  report: REPORT_FILE,
  perImage: PER_IMAGE_FILE,
  breakdown: BREAKDOWN_FILE,
} as const;

export const evaluateParamsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    protocol: { enum: ["ssbc2020"], default: "ssbc2020", description: "Scoring protocol" },
    folds: { type: "integer", minimum: 1, maximum: 100, default: 5, description: "Folds the images are dealt into (seeded)" },
    size: {
      type: ["array", "null"],
      items: { type: "integer", minimum: 1, maximum: 8192 },
      minItems: 2,
      maxItems: 2,
      default: [480, 360],
      description: "[width, height] masks and maps are resized to before scoring; null keeps the ground truth's size",
    },
    breakdown_by: {
      type: ["array", "null"],
      items: { type: "string", minLength: 1 },
      uniqueItems: true,
      default: null,
      description: "Image attributes to break the figures down by; null: every attribute present",
    },
  },
} as const;
