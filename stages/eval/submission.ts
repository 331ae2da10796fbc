/**
 * The SSBC submission layout and pairing its files with the ground truth.
 *
 * A submission folder holds `Predictions/` (8-bit greyscale probability maps) and/or
 * `Binarised/` (black and white masks); the `predict` stage adds `GroundTruth/` and
 * `predictions.json`. Files pair with ground-truth files by base name without the
 * extension (the SSBC kit also accepted a `.jpg` where the truth is `.png`). Folders
 * are searched recursively (MOBIUS keeps its masks in a folder per subject); hidden
 * files and files that are not images are ignored.
 *
 * Every mismatch is collected before failing, so one message names all the missing,
 * extra and ambiguous files of each folder (5 each at most, then "and N more").
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";

import { baseName, isImageName } from "../data/image-files.js";
import { BINARISED_DIR, GROUND_TRUTH_DIR, PREDICTIONS_DIR } from "./layout.js";
import { SubmissionError, count, listNames } from "./submission-error.js";

export { BINARISED_DIR, GROUND_TRUTH_DIR, PREDICTIONS_DIR };

export interface SubmissionEntry {
  /** The ground-truth file's name (no folder), as reports show it. */
  readonly name: string;
  /** What files pair by: `name` without its extension. */
  readonly key: string;
  readonly groundTruth: string;
  readonly prediction: string | null;
  readonly binarised: string | null;
}

export interface SubmissionLayout {
  /** Sorted by key. */
  readonly entries: readonly SubmissionEntry[];
  readonly hasPredictions: boolean;
  readonly hasBinarised: boolean;
}

export async function matchSubmission(submissionDir: string, groundTruthDir: string): Promise<SubmissionLayout> {
  await requireFolder(submissionDir);
  await requireFolder(groundTruthDir);
  const predictionsDir = path.join(submissionDir, PREDICTIONS_DIR);
  const binarisedDir = path.join(submissionDir, BINARISED_DIR);
  const hasPredictions = await isFolder(predictionsDir);
  const hasBinarised = await isFolder(binarisedDir);
  if (!hasPredictions && !hasBinarised) {
    throw new SubmissionError(submissionDir, `not an SSBC submission: it has neither a ${PREDICTIONS_DIR}/ nor a ${BINARISED_DIR}/ folder`);
  }

  const problems: string[] = [];
  const truth = await imagesByKey(groundTruthDir, "the ground truth", problems);
  if (truth.size === 0 && problems.length === 0) {
    throw new SubmissionError(groundTruthDir, "no ground-truth images in this folder (.png, .jpg, .bmp, .tif or .webp)");
  }
  const predictions = hasPredictions ? await imagesByKey(predictionsDir, `${PREDICTIONS_DIR}/`, problems) : null;
  const binarised = hasBinarised ? await imagesByKey(binarisedDir, `${BINARISED_DIR}/`, problems) : null;
  for (const [folder, files] of [
    [PREDICTIONS_DIR, predictions],
    [BINARISED_DIR, binarised],
  ] as const) {
    if (files) problems.push(...mismatches(`${folder}/`, files, truth));
  }
  if (problems.length > 0) {
    throw new SubmissionError(submissionDir, `does not match the ground truth in ${groundTruthDir}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }

  const entries = [...truth.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, file]): SubmissionEntry => ({
      name: path.basename(file),
      key,
      groundTruth: path.join(groundTruthDir, file),
      prediction: predictions?.has(key) ? path.join(predictionsDir, predictions.get(key) as string) : null,
      binarised: binarised?.has(key) ? path.join(binarisedDir, binarised.get(key) as string) : null,
    }));
  return { entries, hasPredictions, hasBinarised };
}

/** key -> path relative to `dir`; two files with one key are a problem (which one would be scored?). */
async function imagesByKey(dir: string, label: string, problems: string[]): Promise<Map<string, string>> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && !entry.name.startsWith(".") && isImageName(entry.name))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
  const byKey = new Map<string, string[]>();
  for (const file of files) {
    const key = baseName(file);
    byKey.set(key, [...(byKey.get(key) ?? []), file]);
  }
  const ambiguous = [...byKey.values()].filter((same) => same.length > 1);
  if (ambiguous.length > 0) {
    const examples = ambiguous.map((same) => `(${same.join(", ")})`);
    problems.push(`${label} has ${count(ambiguous.length, "name")} used by more than one image: ${listNames(examples)}`);
  }
  return new Map([...byKey].map(([key, same]) => [key, same[0] as string]));
}

function mismatches(label: string, files: ReadonlyMap<string, string>, truth: ReadonlyMap<string, string>): string[] {
  const missing = [...truth].filter(([key]) => !files.has(key)).map(([, file]) => file);
  const extra = [...files].filter(([key]) => !truth.has(key)).map(([, file]) => file);
  const out: string[] = [];
  if (missing.length > 0) out.push(`${label} has no file for ${count(missing.length, "ground-truth image")}: ${listNames(missing)}`);
  if (extra.length > 0) out.push(`${label} has ${count(extra.length, "file")} with no ground truth: ${listNames(extra)}`);
  return out;
}

async function requireFolder(dir: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch {
    throw new SubmissionError(dir, "no such folder");
  }
  if (!isDir) throw new SubmissionError(dir, "not a folder");
}

async function isFolder(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
