/**
 * Re-reads one artifact folder and compares it with its manifest: every file present
 * with the recorded size and sha256, nothing extra, and the manifest itself naming and
 * hashing to the folder's digest. Never uses the digest cache: verify exists to catch
 * what a stat cannot.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { digestOfFiles, hashFolder } from "../digest.js";
import type { ArtifactManifest, ManifestFile } from "../formats.js";
import type { VerifyProblem } from "./artifact-store.js";
import { isNotFound } from "./atomic-file.js";

/** Name of the manifest inside every artifact folder. */
export const MANIFEST_FILE = ".mu-artifact.json";

export async function verifyArtifact(dir: string, digest: string): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const report = (file: string, problem: string): void => {
    problems.push({ digest, path: file, problem });
  };

  let manifest: Partial<ArtifactManifest> | null;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), "utf8")) as Partial<ArtifactManifest> | null;
  } catch (error) {
    report(MANIFEST_FILE, isNotFound(error) ? "manifest missing" : `manifest unreadable: ${(error as Error).message}`);
    return problems;
  }
  if (manifest?.version !== 1 || !Array.isArray(manifest.files)) {
    report(MANIFEST_FILE, "not a version 1 manifest");
    return problems;
  }
  if (manifest.digest !== digest) report(MANIFEST_FILE, `manifest names ${String(manifest.digest)}, but the folder is ${digest}`);
  const listed = manifest.files;
  let listedDigest: string | null = null;
  try {
    listedDigest = digestOfFiles(listed);
  } catch (error) {
    report(MANIFEST_FILE, `file list is not valid JSON data: ${(error as Error).message}`);
  }
  if (listedDigest !== null && listedDigest !== digest) report(MANIFEST_FILE, `file list hashes to ${listedDigest}, not ${digest}`);

  let actual: ManifestFile[];
  try {
    actual = await hashFolder(dir, { followSymlinks: false, exclude: new Set([MANIFEST_FILE]) });
  } catch (error) {
    report(".", `cannot read the artifact: ${(error as Error).message}`);
    return problems;
  }
  const found = new Map(actual.map((file) => [file.path, file]));
  for (const expected of listed) {
    const file = found.get(expected.path);
    found.delete(expected.path);
    if (file === undefined) report(expected.path, "missing");
    else if (file.size !== expected.size) report(expected.path, `size ${file.size} bytes, manifest says ${expected.size}`);
    else if (file.sha256 !== expected.sha256) report(expected.path, `content changed (sha256 ${file.sha256}, manifest says ${expected.sha256})`);
  }
  for (const extra of found.keys()) report(extra, "not in the manifest");
  return problems;
}
