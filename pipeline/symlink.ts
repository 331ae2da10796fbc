import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";

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
