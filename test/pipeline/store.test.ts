import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprintKey } from "../../pipeline/fingerprint.js";
import { HOST_TAG } from "../../pipeline/store/atomic-file.js";
import { openStore, type FsArtifactStore } from "../../pipeline/store/fs-store.js";
import { openCopyingStore } from "./copying-store.js";
import { commitInfo, describeArtifactStoreContract, testFingerprint, writeOutputs } from "./store-contract.js";

describeArtifactStoreContract("FsArtifactStore", (root) => openStore(root));
describeArtifactStoreContract("a store that copies artifacts into a local cache (test-only)", (root) => openCopyingStore(root));

/** A pid no process can have (above Linux's pid_max). */
const DEAD_PID = 2 ** 30;

describe("FsArtifactStore on disk", () => {
  let root: string;
  let store: FsArtifactStore;
  const key = fingerprintKey(testFingerprint());

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "mu-fs-store-"));
    store = await openStore(path.join(root, "store"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("lays out artifacts by digest and records by fingerprint key", async () => {
    const attempt = await store.beginAttempt(key);
    expect(path.dirname(attempt.dir)).toBe(path.join(store.root, "tmp"));
    expect(path.basename(attempt.dir)).toMatch(new RegExp(`^${key}-${process.pid}-${HOST_TAG}-[0-9a-f]{8}$`));
    await writeOutputs(attempt, { "out/a.txt": "a" });
    const record = await attempt.commit(commitInfo(testFingerprint()));
    const hex = record.artifactDigest.slice("sha256:".length);
    expect(await readdir(path.join(store.root, "artifacts"))).toEqual([hex]);
    expect(await readdir(path.join(store.root, "tmp"))).toEqual([]);
    expect(JSON.parse(await readFile(path.join(store.root, "records", `${key}.json`), "utf8"))).toEqual(record);
    const manifest = JSON.parse(await readFile(path.join(store.root, "artifacts", hex, ".mu-artifact.json"), "utf8")) as unknown;
    expect(manifest).toEqual({ version: 1, digest: record.artifactDigest, files: [{ path: "out/a.txt", size: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }] });
  });

  it("makes committed files read-only, yet gc can remove them", async () => {
    const attempt = await store.beginAttempt(key);
    await writeOutputs(attempt, { "a.txt": "a" });
    const record = await attempt.commit(commitInfo(testFingerprint()));
    expect((await stat(path.join(store.artifactPath(record.artifactDigest), "a.txt"))).mode & 0o222).toBe(0);
    expect((await store.gc(new Set(), { dryRun: false })).removedArtifacts).toEqual([record.artifactDigest]);
  });

  it("refuses symbolic links and a stage output named like the manifest", async () => {
    const linked = await store.beginAttempt(key);
    await writeOutputs(linked, { "real.txt": "x" });
    await symlink(path.join(linked.dir, "real.txt"), path.join(linked.dir, "link.txt"));
    await expect(linked.commit(commitInfo(testFingerprint()))).rejects.toThrow("symbolic links are not allowed here");
    await linked.discard();

    const clash = await store.beginAttempt(key);
    await writeOutputs(clash, { ".mu-artifact.json": "{}" });
    await expect(clash.commit(commitInfo(testFingerprint()))).rejects.toThrow("may not be named .mu-artifact.json");
    await clash.discard();
    expect(await store.lookup(key)).toBeNull();
  });

  it("removes temp folders of dead processes when opened, and keeps those of live ones", async () => {
    const dead = path.join(store.root, "tmp", `${key}-${DEAD_PID}-${HOST_TAG}-0badf00d`);
    const live = path.join(store.root, "tmp", `${key}-${process.pid}-${HOST_TAG}-0000beef`);
    const otherHost = path.join(store.root, "tmp", `${key}-${DEAD_PID}-ffffffff-0000beef`);
    for (const dir of [dead, live, otherHost]) {
      await mkdir(dir);
      await writeFile(path.join(dir, "partial.bin"), "x");
    }
    await openStore(store.root);
    expect((await readdir(path.join(store.root, "tmp"))).sort()).toEqual([path.basename(otherHost), path.basename(live)].sort());
  });

  it("gc removes dead temp folders, half-written record files and records of missing artifacts", async () => {
    const reopened = await openStore(store.root, { cleanStaleTemp: false });
    const dead = path.join(store.root, "tmp", `${key}-${DEAD_PID}-${HOST_TAG}-0badf00d`);
    await mkdir(dead);
    await writeFile(path.join(dead, "partial.bin"), "12345");
    const halfRecord = path.join(store.root, "records", `.${key}.json-${DEAD_PID}-${HOST_TAG}-0badf00d.tmp`);
    await writeFile(halfRecord, '{"vers');
    const missing = fingerprintKey(testFingerprint({ gone: true }));
    const attempt = await reopened.beginAttempt(missing);
    await writeOutputs(attempt, { "x": "x" });
    const record = await attempt.commit(commitInfo(testFingerprint({ gone: true })));
    await rm(reopened.artifactPath(record.artifactDigest), { recursive: true });

    const result = await reopened.gc(new Set([record.artifactDigest]), { dryRun: false });
    expect(result.removedTemp).toEqual([dead]);
    expect(result.removedRecords).toEqual([missing]);
    expect(result.removedArtifacts).toEqual([]);
    await expect(lstat(halfRecord)).rejects.toThrow();
    expect(await readdir(path.join(store.root, "tmp"))).toEqual([]);
  });

  it("replaces an artifact folder that lacks its manifest instead of trusting it", async () => {
    const first = await store.beginAttempt(key);
    await writeOutputs(first, { "a.txt": "a" });
    const record = await first.commit(commitInfo(testFingerprint()));
    await rm(path.join(store.artifactPath(record.artifactDigest), ".mu-artifact.json"));
    expect(await store.lookup(key)).toBeNull();

    const second = await store.beginAttempt(key);
    await writeOutputs(second, { "a.txt": "a" });
    await second.commit(commitInfo(testFingerprint()));
    expect(await store.lookup(key)).toEqual(record);
    expect(await store.verify()).toEqual([]);
  });

  it("misses a fingerprint whose artifact folder has gone", async () => {
    const attempt = await store.beginAttempt(key);
    await writeOutputs(attempt, { "out.txt": "x" });
    const record = await attempt.commit(commitInfo(testFingerprint()));
    await rm(store.artifactPath(record.artifactDigest), { recursive: true, force: true });
    expect(await store.lookup(key)).toBeNull();
  });

  it("finds modified, missing and extra files with verify", async () => {
    const attempt = await store.beginAttempt(key);
    await writeOutputs(attempt, { "a.txt": "aaa", "b.txt": "bbb", "c.txt": "ccc" });
    const record = await attempt.commit(commitInfo(testFingerprint()));
    expect(await store.verify()).toEqual([]);
    const dir = await store.materialize(record.artifactDigest);
    await chmod(path.join(dir, "a.txt"), 0o644);
    await writeFile(path.join(dir, "a.txt"), "AAA");
    await rm(path.join(dir, "b.txt"));
    await writeFile(path.join(dir, "extra.txt"), "!");
    const problems = await store.verify();
    expect(problems.map((p) => [p.digest, p.path])).toEqual([
      [record.artifactDigest, "a.txt"],
      [record.artifactDigest, "b.txt"],
      [record.artifactDigest, "extra.txt"],
    ]);
    expect(problems.map((p) => p.problem)).toEqual([expect.stringContaining("content changed"), "missing", "not in the manifest"]);
  });

  it("treats an unreadable record as a miss", async () => {
    await writeFile(path.join(store.root, "records", `${key}.json`), "{ not json");
    expect(await store.lookup(key)).toBeNull();
  });

  it("reports a manifest that does not match its folder", async () => {
    const attempt = await store.beginAttempt(key);
    await writeOutputs(attempt, { "a.txt": "a" });
    const record = await attempt.commit(commitInfo(testFingerprint()));
    const manifestFile = path.join(store.artifactPath(record.artifactDigest), ".mu-artifact.json");
    const manifest = JSON.parse(await readFile(manifestFile, "utf8")) as { files: { size: number }[] };
    manifest.files[0] = { ...manifest.files[0], size: 99 } as { size: number };
    await writeFile(manifestFile, JSON.stringify(manifest));
    const problems = await store.verify();
    expect(problems.map((p) => `${p.path}: ${p.problem}`)).toEqual([
      expect.stringMatching(/^\.mu-artifact\.json: file list hashes to sha256:[0-9a-f]{64}, not sha256:/),
      "a.txt: size 1 bytes, manifest says 99",
    ]);
  });

  it("loads the digest cache once, from the store folder", async () => {
    const cache = await store.digestCache();
    expect(await store.digestCache()).toBe(cache);
  });

  it("rejects keys that could escape the store folder", async () => {
    await expect(store.beginAttempt("../evil")).rejects.toThrow("not a valid fingerprint key");
    expect(() => store.artifactPath("sha256:../../etc")).toThrow("not an artifact digest");
  });
});
