import { access, readFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it, vi } from "vitest";
import { runLoad, tempDir } from "./load-fixtures.js";

// The generator belongs to its own module (and tests); here a fake that records its
// calls checks what `load` does with the eyes: files, paths, seeds, determinism.
const calls: { seed: number; options: unknown }[] = [];
vi.mock("../../stages/data/synthetic/generate.js", () => ({
  generateSyntheticEye(seed: number, options?: { width?: number; height?: number }) {
    calls.push({ seed, options });
    const width = options?.width ?? 40;
    const height = options?.height ?? 30;
    const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 13 + seed) % 256);
    const sclera = new Uint8Array(width * height).map((_, i) => (i % width > width / 2 ? 1 : 0));
    return { width, height, rgb, sclera, attributes: { gaze: seed % 2 ? "left" : "right" } };
  },
}));

describe("synthetic source", () => {
  it("writes images and 0/255 masks into the dataset folder, referred to relatively", async () => {
    const base = await tempDir("synthetic");
    calls.length = 0;
    const params = { source: { kind: "synthetic" as const, count: 4, min_size: 32, max_size: 48 }, split: { train: 0.5, val: 0.25, test: 0.25 } };
    const first = await runLoad(params, { baseDir: base, seed: 7 });
    expect(first.manifest.items.map((i) => i.id)).toEqual(["synthetic_0", "synthetic_1", "synthetic_2", "synthetic_3"]);
    for (const item of first.manifest.items) {
      expect(item.image.path).toBe(`images/${item.id}.png`);
      expect(item.mask.path).toBe(`masks/${item.id}.png`);
      expect(item.image.width).toBeGreaterThanOrEqual(32);
      expect(item.image.width).toBeLessThanOrEqual(48);
      expect(item.image.height).toBe(Math.round((item.image.width * 3) / 4));
      expect(item.subject).toBeNull();
      expect(item.attributes).toMatchObject({ source: "synthetic", gaze: expect.stringMatching(/left|right/) });
      await access(path.join(first.outDir, "dataset", item.image.path));
      const { data } = await sharp(await readFile(path.join(first.outDir, "dataset", item.mask.path))).raw().toBuffer({ resolveWithObject: true });
      expect(new Set(data)).toEqual(new Set([0, 255]));
    }
    expect(first.manifest.items.map((i) => i.split).sort()).toEqual(["test", "train", "train", "val"]);
    // Each item its own seed, derived from the experiment seed and the index.
    expect(new Set(calls.map((c) => c.seed)).size).toBe(4);
  });

  it("is a function of params and seed: same seed, same manifest bytes; another seed, other eyes", async () => {
    const base = await tempDir("synthetic-det");
    const params = { source: { kind: "synthetic" as const, count: 3, image_format: "jpeg" as const } };
    calls.length = 0;
    const a = await runLoad(params, { baseDir: base, seed: 1 });
    const b = await runLoad(params, { baseDir: base, seed: 1 });
    expect(b.manifestText).toBe(a.manifestText);
    expect(a.manifest.items[0]?.image.path).toBe("images/synthetic_0.jpg");
    // Without a size range the generator chooses the size.
    expect(calls[0]?.options).toEqual({});
    const c = await runLoad(params, { baseDir: base, seed: 2 });
    expect(c.manifest.items.map((i) => i.image.sha256)).not.toEqual(a.manifest.items.map((i) => i.image.sha256));
  });
});
