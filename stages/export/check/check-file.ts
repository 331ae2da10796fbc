/**
 * `<exported file>.check.json`: what an export's self-check measured, written next to the
 * exported file whether the check passed or not.
 */
export const CHECK_FILE_SUFFIX = ".check.json";
export const CHECK_FILE_VERSION = 1;

/** How F1 is computed, stated in the file so that nobody compares it with the wrong number. */
export const F1_METHOD =
  "pooled over every pixel of the test split at the model's input size (the resized truth of the run's tensors), at the model's threshold: a pixel is sclera when round(p * 255) / 255 >= threshold, as the threshold stage counts";

export interface ExportCheckFile {
  readonly version: typeof CHECK_FILE_VERSION;
  /** The exported file, by name (it sits next to this file). */
  readonly file: string;
  readonly format: string;
  /** none, float16, int8 (formats without quantisation: none). */
  readonly quantize: string;
  readonly bytes: number;
  /** The TF.js model's weights.bin, for comparison. */
  readonly tfjsWeightsBytes: number;
  readonly split: "test";
  readonly images: number;
  readonly threshold: number;
  readonly f1Method: string;
  /** F1 of the TF.js model and of the exported file, and how much lower the exported one is. */
  readonly f1: { readonly tfjs: number; readonly exported: number; readonly drop: number };
  /** Largest and mean |p_exported - p_tfjs| over every pixel's probability. */
  readonly probabilityDifference: { readonly max: number; readonly mean: number };
  /** Pixels whose mask (at the threshold) differs between the two. */
  readonly maskDisagreements: number;
  /** Median milliseconds per image of the exported file (one image per call, one thread), or null. */
  readonly latencyMs: number | null;
  readonly tolerance: number;
  /** F1 drop <= tolerance. */
  readonly passed: boolean;
  /** Why it failed, for people; null when it passed. */
  readonly note: string | null;
}

export function checkFileOf(exported: string): string {
  return `${exported}${CHECK_FILE_SUFFIX}`;
}
