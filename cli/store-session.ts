/** Opens an experiment's artifact store with its digest cache for external inputs. */
import { digestPath } from "../pipeline/digest.js";
import { MuPipeError } from "../pipeline/failure.js";
import type { ArtifactStore } from "../pipeline/store/artifact-store.js";
import { openStore } from "../pipeline/store/fs-store.js";

export interface StoreSession {
  readonly store: ArtifactStore;
  /** Content digest of an external input; a missing path is a config-level error naming it. */
  digestExternal(absPath: string): Promise<string>;
  /** Persists what the digest cache learned (so the next `status` need not re-read unchanged files). */
  saveDigestCache(): Promise<void>;
}

export async function openExperimentStore(storeDir: string): Promise<StoreSession> {
  const store = await openStore(storeDir);
  const cache = await store.digestCache();
  return {
    store,
    async digestExternal(absPath) {
      try {
        return await digestPath(absPath, cache);
      } catch (error) {
        if (error instanceof MuPipeError) throw error;
        throw new MuPipeError({ reason: "io", path: absPath, message: error instanceof Error ? error.message : String(error) });
      }
    },
    saveDigestCache: () => cache.save(),
  };
}
