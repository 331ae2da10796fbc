/**
 * Listing a source folder: every file below it, relative and `/`-separated, sorted.
 * A folder that does not exist is an error naming the path.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { compare } from "./source-scan.js";

export async function requireFolder(folder: string, what: string): Promise<void> {
  let info;
  try {
    info = await stat(folder);
  } catch {
    throw new Error(`${what} does not exist: ${folder}`);
  }
  if (!info.isDirectory()) throw new Error(`${what} is not a folder: ${folder}`);
}

/** Relative paths (with `/`) of all files below `folder`, sorted; symlinked files count. */
export async function listFiles(folder: string, what: string): Promise<string[]> {
  await requireFolder(folder, what);
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (!(entry.isFile() || entry.isSymbolicLink())) continue;
    const parent = entry.parentPath;
    files.push(path.relative(folder, path.join(parent, entry.name)).split(path.sep).join("/"));
  }
  return files.sort(compare);
}

/** `a/b/c.jpg` -> `a/b`; `c.jpg` -> ``. */
export function dirOf(relative: string): string {
  const slash = relative.lastIndexOf("/");
  return slash < 0 ? "" : relative.slice(0, slash);
}

/** `a/b/c.jpg` -> `c.jpg`. */
export function fileOf(relative: string): string {
  return relative.slice(relative.lastIndexOf("/") + 1);
}
