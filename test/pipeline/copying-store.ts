/**
 * A second ArtifactStore, for tests only: artifacts live in a "remote" store (here an
 * FsArtifactStore in another folder) and `materialize` copies one into a local cache,
 * as an object store would download it. It shows the interface needs no path
 * arithmetic: what the engine reads comes from `materialize`, never from the remote's
 * layout. Everything else is delegated.
 */
import { cp, mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { ArtifactStore } from "../../pipeline/store/artifact-store.js";
import { isNotFound } from "../../pipeline/store/atomic-file.js";
import { MANIFEST_FILE, openStore } from "../../pipeline/store/fs-store.js";

export async function openCopyingStore(root: string): Promise<ArtifactStore> {
  const remote = await openStore(path.join(root, "remote"));
  const cacheDir = path.join(root, "local-cache");
  await mkdir(cacheDir, { recursive: true });
  return {
    lookup: (key) => remote.lookup(key),
    readManifest: (digest) => remote.readManifest(digest),
    beginAttempt: (key) => remote.beginAttempt(key),
    scratchDir: (key) => remote.scratchDir(key),
    findScratch: (key) => remote.findScratch(key),
    clearScratch: (key) => remote.clearScratch(key),
    writeLog: (key, text) => remote.writeLog(key, text),
    readLog: (key) => remote.readLog(key),
    lock: (key, description, onWait, signal) => remote.lock(key, description, onWait, signal),
    verify: () => remote.verify(),
    gc: (keep, options) => remote.gc(keep, options),
    async materialize(digest) {
      // Asking the remote first: an artifact gc removed is gone, whatever the cache holds.
      await remote.readManifest(digest);
      const local = path.join(cacheDir, digest.replace(/^sha256:/, ""));
      if (await stat(path.join(local, MANIFEST_FILE)).then(() => true, () => false)) return local;
      const download = `${local}.part-${randomBytes(4).toString("hex")}`;
      await cp(await remote.materialize(digest), download, { recursive: true });
      try {
        await rename(download, local);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST" && !isNotFound(error)) throw error;
      } finally {
        await rm(download, { recursive: true, force: true });
      }
      return local;
    },
  };
}
