/**
 * Reading and writing the dataset manifest (`<dataset>/manifest.json`) for the stages
 * that consume a `dataset` artifact (flip-augment, augment, resize). The format itself is
 * defined in dataset-manifest.ts.
 */
import { readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";

import {
  DATASET_MANIFEST_FILE,
  DATASET_MANIFEST_VERSION,
  type DatasetManifest,
} from "./dataset-manifest.js";

/** Reads `<dir>/manifest.json`, rejecting versions this code does not know. */
export async function readDatasetManifest(dir: string): Promise<DatasetManifest> {
  const file = path.join(dir, DATASET_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read dataset manifest ${file}: ${messageOf(error)}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`dataset manifest ${file} is not valid JSON: ${messageOf(error)}`, { cause: error });
  }
  if (!isObject(parsed) || parsed["version"] !== DATASET_MANIFEST_VERSION) {
    const found = isObject(parsed) ? JSON.stringify(parsed["version"]) : typeof parsed;
    throw new Error(`dataset manifest ${file}: expected version ${DATASET_MANIFEST_VERSION}, found ${found}`);
  }
  if (!Array.isArray(parsed["items"])) throw new Error(`dataset manifest ${file}: "items" is not an array`);
  const manifest = parsed as unknown as DatasetManifest;
  return { ...manifest, skipped: Array.isArray(parsed["skipped"]) ? manifest.skipped : [] };
}

/** Writes `<dir>/manifest.json` (creating `dir`), pretty-printed for people reading it. */
export async function writeDatasetManifest(dir: string, manifest: DatasetManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, DATASET_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
