/**
 * What every ArtifactStore must do, as one suite each implementation runs:
 * `describeArtifactStoreContract("fs", (root) => openStore(root))`. It goes through the
 * interface only (artifacts are read where `materialize` puts them), so a shared-file
 * system or object store runs it unchanged; checks of one implementation's layout
 * belong in that implementation's own tests (store.test.ts for the fs store).
 */
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprintKey } from "../../pipeline/fingerprint.js";
import type { Fingerprint } from "../../pipeline/formats.js";
import type { ArtifactStore, Attempt, CommitInfo, LockHolder } from "../../pipeline/store/artifact-store.js";

export function testFingerprint(params: Record<string, unknown> = {}): Fingerprint {
  return { version: 2, stageType: "toy", stageVersion: 1, params, seed: null, inputs: {}, external: {} };
}

export function commitInfo(fingerprint: Fingerprint): CommitInfo {
  return {
    fingerprint,
    metrics: { accuracy: 0.5 },
    startedAt: "2025-01-01T00:00:00.000Z",
    finishedAt: "2025-01-01T00:00:01.000Z",
    durationMs: 1000,
  };
}

/** Writes `files` (relative path -> content) into an attempt's folder. */
export async function writeOutputs(attempt: Attempt, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(attempt.dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export function describeArtifactStoreContract(name: string, makeStore: (root: string) => Promise<ArtifactStore>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let root: string;
    let store: ArtifactStore;

    beforeEach(async () => {
      root = await mkdtemp(path.join(os.tmpdir(), "mu-store-"));
      store = await makeStore(path.join(root, "store"));
    });
    afterEach(async () => {
      await rm(root, { recursive: true, force: true });
    });

    /** Computes a fingerprint with the given outputs; returns its key and record. */
    async function compute(params: Record<string, unknown>, files: Record<string, string>) {
      const fp = testFingerprint(params);
      const key = fingerprintKey(fp);
      const attempt = await store.beginAttempt(key);
      await writeOutputs(attempt, files);
      const record = await attempt.commit(commitInfo(fp));
      return { key, record, attempt };
    }

    it("misses a fingerprint it never saw", async () => {
      expect(await store.lookup(fingerprintKey(testFingerprint()))).toBeNull();
    });

    it("finds a committed fingerprint, with its outputs and manifest", async () => {
      const { key, record } = await compute({ n: 1 }, { "model/weights.bin": "w", "metrics.json": "{}" });
      expect(record.artifactDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(record.fingerprint).toEqual(testFingerprint({ n: 1 }));
      expect(await store.lookup(key)).toEqual(record);
      const dir = await store.materialize(record.artifactDigest);
      expect(path.isAbsolute(dir)).toBe(true);
      expect(await readFile(path.join(dir, "model/weights.bin"), "utf8")).toBe("w");
      expect(await readFile(path.join(dir, "metrics.json"), "utf8")).toBe("{}");
      const manifest = await store.readManifest(record.artifactDigest);
      expect(manifest.digest).toBe(record.artifactDigest);
      expect(manifest.files.map((f) => f.path)).toEqual(["metrics.json", "model/weights.bin"]);
    });

    it("stores identical outputs of two fingerprints once", async () => {
      const a = await compute({ n: 1 }, { "out.txt": "same" });
      const b = await compute({ n: 2 }, { "out.txt": "same" });
      const c = await compute({ n: 3 }, { "out.txt": "different" });
      expect(b.record.artifactDigest).toBe(a.record.artifactDigest);
      expect(c.record.artifactDigest).not.toBe(a.record.artifactDigest);
      expect((await store.lookup(b.key))?.artifactDigest).toBe(a.record.artifactDigest);
      expect(await exists(b.attempt.dir)).toBe(false);
    });

    it("leaves nothing behind when an attempt is discarded", async () => {
      const key = fingerprintKey(testFingerprint());
      const attempt = await store.beginAttempt(key);
      await writeOutputs(attempt, { "half.bin": "x" });
      await attempt.discard();
      await attempt.discard();
      expect(await exists(attempt.dir)).toBe(false);
      expect(await store.lookup(key)).toBeNull();
      const gc = await store.gc(new Set(), { dryRun: true });
      expect(gc.removedTemp).toEqual([]);
    });

    it("never takes an attempt in progress for a complete artifact", async () => {
      const key = fingerprintKey(testFingerprint());
      const attempt = await store.beginAttempt(key);
      await writeOutputs(attempt, { "out.txt": "partial" });
      expect(await store.lookup(key)).toBeNull();
      expect(await store.verify()).toEqual([]);
      // Its owner is alive: gc must not pull the folder from under it.
      expect((await store.gc(new Set(), { dryRun: false })).removedTemp).toEqual([]);
      expect(await exists(path.join(attempt.dir, "out.txt"))).toBe(true);
      await attempt.discard();
    });

    it("refuses to materialize an artifact it does not hold", async () => {
      await expect(store.materialize(`sha256:${"0".repeat(64)}`)).rejects.toMatchObject({ failure: { reason: "store-corrupt" } });
    });

    it("collects what is not kept, and a dry run removes nothing", async () => {
      const kept = await compute({ n: 1 }, { "out.txt": "keep me" });
      const dropped = await compute({ n: 2 }, { "out.txt": "drop me" });
      const keep = new Set([kept.record.artifactDigest]);

      const dry = await store.gc(keep, { dryRun: true });
      expect(dry.removedArtifacts).toEqual([dropped.record.artifactDigest]);
      expect(dry.removedRecords).toEqual([dropped.key]);
      expect(dry.freedBytes).toBeGreaterThan("drop me".length);
      expect(await store.lookup(dropped.key)).not.toBeNull();

      const real = await store.gc(keep, { dryRun: false });
      expect(real).toEqual(dry);
      expect(await store.lookup(dropped.key)).toBeNull();
      await expect(store.materialize(dropped.record.artifactDigest)).rejects.toMatchObject({ failure: { reason: "store-corrupt" } });
      expect(await store.lookup(kept.key)).toEqual(kept.record);
      expect(await store.gc(keep, { dryRun: false })).toEqual({ removedArtifacts: [], removedRecords: [], removedTemp: [], freedBytes: 0 });
    });

    it("keeps scratch folders until cleared, and logs beside records", async () => {
      const key = fingerprintKey(testFingerprint());
      expect(await store.findScratch(key)).toBeNull();
      const scratch = await store.scratchDir(key);
      await writeFile(path.join(scratch, "checkpoint"), "epoch 3");
      expect(await store.scratchDir(key)).toBe(scratch);
      expect(await store.findScratch(key)).toBe(scratch);
      expect(await readdir(scratch)).toEqual(["checkpoint"]);
      await store.clearScratch(key);
      expect(await exists(scratch)).toBe(false);
      expect(await store.findScratch(key)).toBeNull();

      expect(await store.readLog(key)).toBeNull();
      await store.writeLog(key, "line 1\nline 2\n");
      expect(await store.readLog(key)).toBe("line 1\nline 2\n");
    });

    it("serializes holders of one lock, telling the waiter once who holds it", async () => {
      const key = fingerprintKey(testFingerprint());
      const first = await store.lock(key, "first", () => undefined);
      const holders: LockHolder[] = [];
      let secondAcquired = false;
      const second = store.lock(key, "second", (holder) => holders.push(holder)).then((lock) => {
        secondAcquired = true;
        return lock;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(secondAcquired).toBe(false);
      expect(holders).toEqual([expect.objectContaining({ owner: expect.stringMatching(/\S/), hostname: os.hostname(), description: "first" })]);
      await first.release();
      const lock = await second;
      expect(holders).toHaveLength(1);
      await lock.release();
      await (await store.lock(key, "third", () => undefined)).release();
    });

    it("stops waiting for a lock when aborted", async () => {
      const key = fingerprintKey(testFingerprint());
      const held = await store.lock(key, "held", () => undefined);
      const controller = new AbortController();
      const waiting = store.lock(key, "waiter", () => controller.abort(), controller.signal);
      await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
      await held.release();
    });
  });
}
