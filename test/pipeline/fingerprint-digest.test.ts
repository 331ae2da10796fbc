import { createHash } from "node:crypto";
import { mkdtemp, mkdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DigestCache, digestPath, hashFileSha256 } from "../../pipeline/digest.js";
import { canonicalJson } from "../../pipeline/fingerprint.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "mu-digest-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

describe("digestPath", () => {
  it("digests a file as sha256sum does", async () => {
    await tree(dir, { "a.txt": "hello" });
    expect(await hashFileSha256(path.join(dir, "a.txt"))).toBe(sha("hello"));
    expect(await digestPath(path.join(dir, "a.txt"))).toBe(`sha256:${sha("hello")}`);
  });

  it("digests a folder as the sorted list of its files, dotfiles included", async () => {
    await tree(dir, { "b/2.png": "two", "a.txt": "one", ".hidden": "h" });
    const files = [
      { path: ".hidden", size: 1, sha256: sha("h") },
      { path: "a.txt", size: 3, sha256: sha("one") },
      { path: "b/2.png", size: 3, sha256: sha("two") },
    ];
    expect(await digestPath(dir)).toBe(`sha256:${sha(canonicalJson(files))}`);
  });

  it("changes when a file is renamed, edited or added, but not for an empty folder", async () => {
    await tree(dir, { "a/x": "1" });
    const first = await digestPath(dir);
    await mkdir(path.join(dir, "empty"));
    expect(await digestPath(dir)).toBe(first);
    await writeFile(path.join(dir, "a/x"), "2");
    const edited = await digestPath(dir);
    expect(edited).not.toBe(first);
    await writeFile(path.join(dir, "a/y"), "2");
    expect(await digestPath(dir)).not.toBe(edited);
  });

  it("follows symbolic links and reports a cycle", async () => {
    await tree(dir, { "real/x": "1", "data/placeholder": "" });
    await rm(path.join(dir, "data/placeholder"));
    await symlink(path.join(dir, "real/x"), path.join(dir, "data/x"));
    const viaLink = await digestPath(path.join(dir, "data"));
    await rm(path.join(dir, "data/x"));
    await writeFile(path.join(dir, "data/x"), "1");
    expect(await digestPath(path.join(dir, "data"))).toBe(viaLink);

    await symlink(path.join(dir, "data"), path.join(dir, "data/loop"));
    await expect(digestPath(path.join(dir, "data"))).rejects.toThrow("symbolic link cycle");
  });

  it("names a missing path", async () => {
    await expect(digestPath(path.join(dir, "nope"))).rejects.toThrow(`${path.join(dir, "nope")}: no such file or folder`);
  });
});

describe("DigestCache", () => {
  async function oldFile(rel: string, content: string): Promise<string> {
    await tree(dir, { [rel]: content });
    const file = path.join(dir, rel);
    const past = new Date(Date.now() - 60_000);
    await utimes(file, past, past);
    // utimes sets the ctime to now; step past it so the cache does not see the file as racily clean.
    await sleep(20);
    return file;
  }

  it("does not re-read unchanged files", async () => {
    await oldFile("data/a", "aaa");
    await oldFile("data/b", "bbb");
    const cache = DigestCache.inMemory({ racyMarginMs: 0 });
    const first = await digestPath(path.join(dir, "data"), cache);
    expect(cache.stats).toEqual({ hits: 0, misses: 2 });
    expect(await digestPath(path.join(dir, "data"), cache)).toBe(first);
    expect(cache.stats).toEqual({ hits: 2, misses: 2 });
  });

  it("notices a same-size edit even when the mtime is put back", async () => {
    const file = await oldFile("a", "aaa");
    const cache = DigestCache.inMemory({ racyMarginMs: 0 });
    const first = await digestPath(file, cache);
    expect(await digestPath(file, cache)).toBe(first);
    expect(cache.stats.hits).toBe(1);
    const { mtime, atime } = await stat(file);
    await sleep(30); // let the (coarse) file-system clock tick, so the ctime moves
    await writeFile(file, "bbb");
    await utimes(file, atime, mtime);
    expect(await digestPath(file, cache)).toBe(`sha256:${sha("bbb")}`);
    expect(await digestPath(file, cache)).not.toBe(first);
  });

  it("does not cache a file modified just before it was read (racily clean)", async () => {
    await tree(dir, { fresh: "x" });
    const cache = DigestCache.inMemory();
    await digestPath(path.join(dir, "fresh"), cache);
    await digestPath(path.join(dir, "fresh"), cache);
    expect(cache.stats.hits).toBe(0);
    expect(cache.size).toBe(0);
  });

  it("persists to a JSON file, merging entries saved by another process", async () => {
    const a = await oldFile("a", "aaa");
    const b = await oldFile("b", "bbb");
    const cacheFile = path.join(dir, "digest-cache.json");
    const one = await DigestCache.load(cacheFile, { racyMarginMs: 0 });
    const two = await DigestCache.load(cacheFile, { racyMarginMs: 0 });
    await digestPath(a, one);
    await digestPath(b, two);
    await one.save();
    await two.save();
    const reloaded = await DigestCache.load(cacheFile, { racyMarginMs: 0 });
    expect(reloaded.size).toBe(2);
    await digestPath(a, reloaded);
    await digestPath(b, reloaded);
    expect(reloaded.stats.hits).toBe(2);
    expect(JSON.parse(await readFile(cacheFile, "utf8"))).toMatchObject({ version: 1 });
  });

  it("starts empty from an unreadable file and prunes deleted paths", async () => {
    const cacheFile = path.join(dir, "digest-cache.json");
    await writeFile(cacheFile, "{not json");
    const cache = await DigestCache.load(cacheFile, { racyMarginMs: 0 });
    expect(cache.size).toBe(0);
    const a = await oldFile("a", "aaa");
    await digestPath(a, cache);
    await rm(a);
    expect(await cache.prune()).toBe(1);
    await cache.save();
    expect((await DigestCache.load(cacheFile)).size).toBe(0);
  });
});
