/**
 * `predictions.json`, which the `predict` stage writes beside Predictions/, Binarised/
 * and GroundTruth/: the binarisation threshold and, per image, the dataset item's
 * split, subject and attributes (for breakdowns). A submission from another tool has
 * none; it is then scored without breakdowns.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

import { SubmissionError } from "./submission-error.js";

export const SUBMISSION_MANIFEST_FILE = "predictions.json";
export const SUBMISSION_MANIFEST_VERSION = 1;

export interface SubmissionItem {
  readonly id: string;
  /** File name in Predictions/, Binarised/ and GroundTruth/: "<base>.png". */
  readonly name: string;
  /** Null for images predicted from files rather than a dataset split. */
  readonly split: string | null;
  readonly subject: string | null;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface SubmissionManifest {
  readonly version: 1;
  readonly threshold: number;
  readonly items: readonly SubmissionItem[];
}

/** The manifest of `submissionDir`, or null when it has none. */
export async function readSubmissionManifest(submissionDir: string): Promise<SubmissionManifest | null> {
  const file = path.join(submissionDir, SUBMISSION_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new SubmissionError(file, `cannot read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SubmissionError(file, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const problem = checkManifest(data);
  if (problem) throw new SubmissionError(file, problem);
  return data as SubmissionManifest;
}

function checkManifest(data: unknown): string | null {
  if (!isRecord(data)) return "expected a JSON object";
  if (data["version"] !== SUBMISSION_MANIFEST_VERSION) {
    return `unsupported version ${JSON.stringify(data["version"])} (this mu-pipe reads version ${SUBMISSION_MANIFEST_VERSION})`;
  }
  if (typeof data["threshold"] !== "number") return "`threshold` must be a number";
  const items = data["items"];
  if (!Array.isArray(items)) return "`items` must be an array";
  for (const [i, item] of items.entries()) {
    const where = `items[${i}]`;
    if (!isRecord(item)) return `${where} must be an object`;
    for (const key of ["id", "name"]) if (typeof item[key] !== "string") return `${where}.${key} must be a string`;
    if (item["split"] !== null && typeof item["split"] !== "string") return `${where}.split must be a string or null`;
    if (item["subject"] !== null && typeof item["subject"] !== "string") return `${where}.subject must be a string or null`;
    const attributes = item["attributes"];
    if (!isRecord(attributes) || Object.values(attributes).some((v) => typeof v !== "string")) {
      return `${where}.attributes must map names to strings`;
    }
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
