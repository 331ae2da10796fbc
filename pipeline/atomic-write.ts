import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";

/**
 * Writes a file so readers see either the old or the whole new content, never a
 * half-written one: write a sibling temp file, flush it, rename it over the target.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const handle = await fs.open(temp, "w");
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Points `link` at `target` atomically (a new symlink renamed over the old one). */
export async function replaceSymlink(target: string, link: string): Promise<void> {
  const temp = `${link}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await fs.symlink(target, temp);
  try {
    await fs.rename(temp, link);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
