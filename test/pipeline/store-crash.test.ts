/**
 * kill -9 at any moment must never leave something `lookup` takes for complete. Child
 * processes run the compiled store (dist/) and are killed mid-write and mid-commit.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../pipeline/store/fs-store.js";
import { killHard, startScript, waitForLine } from "./store-child-process.js";

const KEY = "c".repeat(64);

describe("FsArtifactStore after kill -9", () => {
  let root: string;
  let storeRoot: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "mu-crash-"));
    storeRoot = path.join(root, "store");
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("an attempt killed while writing is a miss, and gc removes its folder", async () => {
    const child = await startScript(
      root,
      "write-forever.mjs",
      `import { writeFileSync } from "node:fs";
       import path from "node:path";
       const { openStore } = await import(STORE_MODULE);
       const store = await openStore(process.argv[2]);
       const attempt = await store.beginAttempt(process.argv[3]);
       for (let i = 0; ; i++) {
         writeFileSync(path.join(attempt.dir, "part-" + i + ".bin"), Buffer.alloc(64 * 1024, i));
         if (i === 5) process.stdout.write(JSON.stringify({ dir: attempt.dir }) + "\\n");
         if (i > 5) await new Promise((resolve) => setTimeout(resolve, 1));
       }`,
      [storeRoot, KEY],
    );
    const { dir } = JSON.parse(await waitForLine(child)) as { dir: string };
    await sleep(50);
    await killHard(child);

    const store = await openStore(storeRoot, { cleanStaleTemp: false });
    expect(await store.lookup(KEY)).toBeNull();
    expect(await readdir(path.join(storeRoot, "tmp"))).toEqual([path.basename(dir)]);
    const dry = await store.gc(new Set(), { dryRun: true });
    expect(dry.removedTemp).toEqual([dir]);
    expect(dry.freedBytes).toBeGreaterThanOrEqual(6 * 64 * 1024);
    expect(await readdir(path.join(storeRoot, "tmp"))).toEqual([path.basename(dir)]);
    expect((await store.gc(new Set(), { dryRun: false })).removedTemp).toEqual([dir]);
    expect(await readdir(path.join(storeRoot, "tmp"))).toEqual([]);
    expect(await store.lookup(KEY)).toBeNull();
  });

  it("opening the store clears temp folders of killed attempts", async () => {
    const child = await startScript(
      root,
      "begin.mjs",
      `const { openStore } = await import(STORE_MODULE);
       const store = await openStore(process.argv[2]);
       const attempt = await store.beginAttempt(process.argv[3]);
       process.stdout.write(attempt.dir + "\\n");
       setInterval(() => {}, 1000);`,
      [storeRoot, KEY],
    );
    await waitForLine(child);
    expect(await readdir(path.join(storeRoot, "tmp"))).toHaveLength(1);
    await killHard(child);
    await openStore(storeRoot);
    expect(await readdir(path.join(storeRoot, "tmp"))).toEqual([]);
  });

  it("every record that survives a kill during commits points at a complete, intact artifact", async () => {
    // Killed at different points of a later commit: while writing, hashing, renaming, writing the record.
    for (const delayMs of [0, 3, 7, 12, 20, 35]) {
      await rm(storeRoot, { recursive: true, force: true });
      const child = await startScript(
        root,
        "commit-loop.mjs",
        `import { createHash, randomBytes } from "node:crypto";
         import { mkdirSync, writeFileSync } from "node:fs";
         import path from "node:path";
         const { openStore } = await import(STORE_MODULE);
         const store = await openStore(process.argv[2]);
         for (let i = 0; ; i++) {
           const key = createHash("sha256").update(String(i)).digest("hex");
           const attempt = await store.beginAttempt(key);
           mkdirSync(path.join(attempt.dir, "out"));
           for (let f = 0; f < 20; f++) writeFileSync(path.join(attempt.dir, "out", f + ".bin"), randomBytes(4096));
           const fingerprint = { version: 2, stageType: "toy", stageVersion: 1, params: { i }, seed: null, inputs: {}, external: {} };
           const now = new Date().toISOString();
           await attempt.commit({ fingerprint, metrics: {}, startedAt: now, finishedAt: now, durationMs: 0 });
           process.stdout.write("committed " + i + "\\n");
         }`,
        [storeRoot],
      );
      await waitForLine(child, (line) => line === "committed 0");
      await sleep(delayMs);
      await killHard(child);

      const store = await openStore(storeRoot);
      const recordKeys = (await readdir(path.join(storeRoot, "records"))).filter((name) => /^[0-9a-f]{64}\.json$/.test(name)).map((name) => name.slice(0, 64));
      expect(recordKeys.length).toBeGreaterThan(0);
      for (const key of recordKeys) {
        const record = await store.lookup(key);
        expect(record).not.toBeNull();
        const manifest = await store.readManifest(record?.artifactDigest ?? "");
        expect(manifest.files).toHaveLength(20);
      }
      expect(await store.verify()).toEqual([]);
      expect(await readdir(path.join(storeRoot, "tmp"))).toEqual([]);
    }
  });
});
