import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { encode as encodePng } from "fast-png";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  analyseScleraMask,
  decodeScleraMask,
  describeMaskProblem,
  findMaskProblems,
  MaskDecodeError,
} from "../../stages/data/masks.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "mu-masks-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

/** 4x2 layout used throughout: sclera at (1,0), (3,0) and (1,1). */
const EXPECTED = [0, 1, 0, 1, 0, 1, 0, 0];

describe("decodeScleraMask", () => {
  it("reads an 8-bit class-index PNG, sclera = value 1 only", async () => {
    const file = await write("class8.png", encodePng({ width: 4, height: 2, channels: 1, depth: 8, data: new Uint8Array([0, 1, 2, 1, 3, 1, 4, 2]) }));
    const decoded = await decodeScleraMask(file, { kind: "class-index", sclera: 1 });
    expect(decoded.width).toBe(4);
    expect(decoded.height).toBe(2);
    expect([...decoded.mask]).toEqual(EXPECTED);
  });

  it("keeps 16-bit class indices as stored (not scaled to 8 bits)", async () => {
    const file = await write("class16.png", encodePng({ width: 4, height: 2, channels: 1, depth: 16, data: new Uint16Array([0, 1, 2, 1, 3, 1, 0, 257]) }));
    expect([...(await decodeScleraMask(file, { kind: "class-index", sclera: 1 })).mask]).toEqual(EXPECTED);
    // Binary on the same file: every non-zero sample, even 1 of 65535, is sclera.
    expect([...(await decodeScleraMask(file, { kind: "binary" })).mask]).toEqual([0, 1, 1, 1, 1, 1, 0, 1]);
  });

  it("reads palette PNGs by index for class-index and by colour for rgb", async () => {
    // Palette order deliberately differs from colour order: index 2 is red.
    const palette = [[0, 0, 0], [0, 255, 0], [255, 0, 0]];
    const file = await write("palette.png", encodePng({ width: 4, height: 2, channels: 1, depth: 8, palette, data: new Uint8Array([0, 2, 1, 2, 0, 2, 1, 0]) }));
    expect([...(await decodeScleraMask(file, { kind: "class-index", sclera: 2 })).mask]).toEqual(EXPECTED);
    expect([...(await decodeScleraMask(file, { kind: "rgb", sclera: [255, 0, 0] })).mask]).toEqual(EXPECTED);
  });

  it("reads 1-bit PNGs (packed rows) as binary and as class-index 1", async () => {
    // Row 0: 0 1 0 1 -> 0101 0000; row 1: 0 1 0 0 -> 0100 0000.
    const file = await write("bits1.png", encodePng({ width: 4, height: 2, channels: 1, depth: 1, data: new Uint8Array([0b01010000, 0b01000000]) }));
    expect([...(await decodeScleraMask(file, { kind: "binary" })).mask]).toEqual(EXPECTED);
    expect([...(await decodeScleraMask(file, { kind: "binary", threshold: 127 })).mask]).toEqual(EXPECTED);
    expect([...(await decodeScleraMask(file, { kind: "class-index", sclera: 1 })).mask]).toEqual(EXPECTED);
  });

  it("reads a binary JPEG mask with compression noise using a threshold", async () => {
    const w = 32;
    const h = 16;
    const raw = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * w + x] = x >= 16 ? 255 : 0;
    const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 1 } }).jpeg({ quality: 30 }).toBuffer();
    const file = await write("binary.jpg", jpeg);
    const { mask } = await decodeScleraMask(file, { kind: "binary", threshold: 127 });
    let wrong = 0;
    for (let i = 0; i < w * h; i++) if (mask[i] !== ((i % w) >= 16 ? 1 : 0)) wrong++;
    expect(wrong).toBe(0);
  });

  it("reads RGB class colours, with the default tolerance for noisy JPEG masks", async () => {
    const w = 32;
    const h = 16;
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const colour = x < 16 ? [255, 0, 0] : [0, 255, 0];
        raw.set(colour, (y * w + x) * 3);
      }
    const png = await write("rgb.png", await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
    const jpg = await write("rgb.jpg", await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
    for (const file of [png, jpg]) {
      const analysis = await analyseScleraMask(file, { kind: "rgb", sclera: [255, 0, 0], known: [[0, 255, 0], [0, 0, 0]] });
      expect(analysis.scleraPixels).toBeGreaterThan(w * h * 0.45);
      expect(analysis.scleraPixels).toBeLessThan(w * h * 0.55);
      expect(analysis.mask[0]).toBe(1);
      expect(analysis.mask[w - 1]).toBe(0);
    }
  });

  it("reads the alpha channel (8-bit RGBA and grey+alpha)", async () => {
    const rgba = new Uint8Array(8 * 4);
    EXPECTED.forEach((v, i) => rgba.set([255, 255, 255, v ? 255 : 0], i * 4));
    const file = await write("alpha.png", encodePng({ width: 4, height: 2, channels: 4, depth: 8, data: rgba }));
    expect([...(await decodeScleraMask(file, { kind: "alpha" })).mask]).toEqual(EXPECTED);
    // Binary on RGBA: white but fully transparent is not sclera.
    expect([...(await decodeScleraMask(file, { kind: "binary" })).mask]).toEqual(EXPECTED);
    const greyAlpha = new Uint8Array(8 * 2);
    EXPECTED.forEach((v, i) => greyAlpha.set([0, v ? 200 : 10], i * 2));
    const file2 = await write("greyalpha.png", encodePng({ width: 4, height: 2, channels: 2, depth: 8, data: greyAlpha }));
    expect([...(await decodeScleraMask(file2, { kind: "alpha", threshold: 127 })).mask]).toEqual(EXPECTED);
  });

  it("reads class indices from an RGB PNG whose channels are equal (grey saved as colour)", async () => {
    const rgb = new Uint8Array(8 * 3);
    [0, 1, 2, 1, 3, 1, 4, 2].forEach((v, i) => rgb.fill(v, i * 3, i * 3 + 3));
    const file = await write("class-rgb.png", await sharp(rgb, { raw: { width: 4, height: 2, channels: 3 } }).png().toBuffer());
    expect([...(await decodeScleraMask(file, { kind: "class-index", sclera: 1 })).mask]).toEqual(EXPECTED);
  });

  it("honours palette transparency (tRNS) for binary and alpha encodings", async () => {
    // White-but-transparent background, opaque white sclera, saved as a palette PNG.
    const rgba = new Uint8Array(8 * 4);
    EXPECTED.forEach((v, i) => rgba.set([255, 255, 255, v ? 255 : 0], i * 4));
    const png = await sharp(rgba, { raw: { width: 4, height: 2, channels: 4 } }).png({ palette: true }).toBuffer();
    expect((await sharp(png).metadata()).isPalette).toBe(true);
    const file = await write("palette-trns.png", png);
    expect([...(await decodeScleraMask(file, { kind: "binary" })).mask]).toEqual(EXPECTED);
    expect([...(await decodeScleraMask(file, { kind: "alpha" })).mask]).toEqual(EXPECTED);
  });

  it("rejects alpha encoding on a mask without alpha, and class-index on colour pixels", async () => {
    const file = await write("noalpha.png", encodePng({ width: 1, height: 1, channels: 3, depth: 8, data: new Uint8Array([255, 0, 0]) }));
    await expect(decodeScleraMask(file, { kind: "alpha" })).rejects.toThrow(/no alpha channel/);
    await expect(decodeScleraMask(file, { kind: "class-index", sclera: 1 })).rejects.toThrow(
      /class-index encoding needs a single-channel or palette mask, but pixel \(0, 0\) has colour \(255, 0, 0\)/,
    );
  });

  it("rejects truncated and non-image files with a MaskDecodeError", async () => {
    const png = encodePng({ width: 64, height: 64, channels: 1, depth: 8, data: new Uint8Array(64 * 64).map((_, i) => (i * 31) % 7) });
    const truncated = await write("truncated.png", png.subarray(0, Math.floor(png.length / 2)));
    await expect(decodeScleraMask(truncated, { kind: "binary" })).rejects.toBeInstanceOf(MaskDecodeError);
    const text = await write("notes.png.txt", new TextEncoder().encode("not an image"));
    await expect(decodeScleraMask(text, { kind: "binary" })).rejects.toThrow(/not a readable image/);
    await expect(decodeScleraMask(path.join(dir, "missing.png"), { kind: "binary" })).rejects.toThrow(/cannot read mask/);
  });
});

describe("mask problems", () => {
  it("finds an empty mask", async () => {
    const file = await write("empty.png", encodePng({ width: 4, height: 2, channels: 1, depth: 8, data: new Uint8Array(8) }));
    const problems = findMaskProblems(await analyseScleraMask(file, { kind: "class-index", sclera: 1 }));
    expect(problems.map(describeMaskProblem)).toEqual(["mask is empty (no sclera pixel)"]);
  });

  it("finds unknown colours only when the known colours are declared", async () => {
    const data = new Uint8Array([255, 0, 0, 0, 0, 0, 12, 200, 99, 12, 200, 99]);
    const file = await write("unknown.png", encodePng({ width: 2, height: 2, channels: 3, depth: 8, data }));
    const known = await analyseScleraMask(file, { kind: "rgb", sclera: [255, 0, 0], known: [[0, 0, 0]] });
    expect(findMaskProblems(known).map(describeMaskProblem)).toEqual([
      "mask has 2 pixel(s) of no declared class colour, first at (0, 1): (12, 200, 99)",
    ]);
    const loose = await analyseScleraMask(file, { kind: "rgb", sclera: [255, 0, 0] });
    expect(findMaskProblems(loose)).toEqual([]);
  });
});
