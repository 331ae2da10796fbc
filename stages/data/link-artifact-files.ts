/**
 * Carrying the files an artifact holds into the next one. A manifest path relative to
 * its own folder names a file inside the same artifact (synthetic images); a stage
 * that passes such a path on puts the file beside its own manifest, so every artifact
 * holds what it refers to and nothing points into another artifact's folder (which
 * the store may keep anywhere, or fetch only on demand).
 */
import { copyFile, link, mkdir } from "node:fs/promises";
import path from "node:path";

import type { StoredPath } from "./dataset-manifest.js";

/** Whether a stored path names a file inside the artifact holding its manifest. */
export function isArtifactFile(ref: StoredPath): boolean {
  return ref.base === undefined && !path.isAbsolute(ref.path) && !ref.path.startsWith("../");
}

/**
 * Hard-links (else copies) each artifact file of `items` from `fromDir` to `toDir`, at
 * the same relative path or at the one `rename` gives (merge prefixes them).
 */
export async function linkArtifactFiles(
  items: readonly { readonly image: StoredPath; readonly mask: StoredPath }[],
  fromDir: string,
  toDir: string,
  rename: (file: string) => string = (file) => file,
): Promise<void> {
  for (const file of artifactFilePaths(items)) await linkOrCopy(path.join(fromDir, ...file.split("/")), path.join(toDir, ...rename(file).split("/")));
}

/** The relative paths of the artifact files `items` refer to, each once. */
export function artifactFilePaths(items: readonly { readonly image: StoredPath; readonly mask: StoredPath }[]): Set<string> {
  return new Set(items.flatMap((item) => [item.image, item.mask]).filter(isArtifactFile).map((ref) => ref.path));
}

/** A hard link costs nothing on the store's own disk; another file system needs a copy. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP" && code !== "EMLINK") throw error;
    await copyFile(from, to);
  }
}
