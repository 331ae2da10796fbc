/** The augment stage's pixel ops and draws, on tiny buffers. */
import { describe, expect, it } from "vitest";

import { augmentPixels } from "../../stages/data/augment-ops.js";
import { copySeed, drawAugmentation } from "../../stages/data/augment-draw.js";
import type { AugmentParams } from "../../stages/data/augment-params.js";
import type { Augmentation } from "../../stages/data/dataset-manifest.js";
import { makeRandom } from "../../stages/data/split.js";
import { DEFAULT_PARAMS, IDENTITY } from "./augment-fixtures.js";
import { blobMask, patternPixels } from "./resize-fixtures.js";

/** A size x size image that is black but for one pixel, and a mask set at that pixel only. */
function onePixel(size: number, x: number, y: number): { image: Uint8Array; mask: Uint8Array } {
  const image = new Uint8Array(size * size * 3);
  image.set([200, 100, 50], (y * size + x) * 3);
  const mask = new Uint8Array(size * size);
  mask[y * size + x] = 1;
  return { image, mask };
}

const litPixels = (mask: Uint8Array, size: number): [number, number][] =>
  [...mask].flatMap((v, i) => (v === 0 ? [] : [[i % size, Math.floor(i / size)] as [number, number]]));

describe("augmentPixels", () => {
  it("gives back the same bytes for identity values", () => {
    const image = patternPixels(8, 8, 3).data;
    const mask = blobMask(8, 8);
    const out = augmentPixels(image, mask, 8, IDENTITY);
    expect(out.image).toEqual(image);
    expect(out.mask).toEqual(mask);
    // The warp itself at identity (a zero-length shift runs it) samples pixel centres exactly.
    const warped = augmentPixels(image, mask, 8, { ...IDENTITY, tx: 1e-12 });
    expect(warped.image).toEqual(image);
    expect(warped.mask).toEqual(mask);
  });

  it("rotates by 90 degrees clockwise about the centre, image and mask together", () => {
    // In a 4x4 image the pixel right of the centre and above it, (3, 1), turns to below and left of it: (2, 3).
    const { image, mask } = onePixel(4, 3, 1);
    const out = augmentPixels(image, mask, 4, { ...IDENTITY, rotate: 90 });
    expect(litPixels(out.mask, 4)).toEqual([[2, 3]]);
    expect([...out.image.subarray((3 * 4 + 2) * 3, (3 * 4 + 2) * 3 + 3)]).toEqual([200, 100, 50]);
    expect(out.image.reduce((a, b) => a + b, 0)).toBe(350);
  });

  it("shifts by a fraction of the side and fills what comes in with black and no sclera", () => {
    const image = new Uint8Array(4 * 4 * 3).fill(90);
    const mask = new Uint8Array(16).fill(1);
    const out = augmentPixels(image, mask, 4, { ...IDENTITY, tx: 0.25 });
    for (let y = 0; y < 4; y++) {
      expect([...out.mask.subarray(y * 4, y * 4 + 4)]).toEqual([0, 1, 1, 1]);
      expect([...out.image.subarray(y * 12, y * 12 + 6)]).toEqual([0, 0, 0, 90, 90, 90]);
    }
  });

  it("keeps the mask 0/1 under any warp, and leaves it alone for photometric ops", () => {
    const image = patternPixels(16, 16, 3).data;
    const mask = blobMask(16, 16);
    const warped = augmentPixels(image, mask, 16, { ...IDENTITY, rotate: 33.3, scale: 1.17, tx: 0.07, ty: -0.11 });
    expect(new Set(warped.mask)).toEqual(new Set([0, 1]));
    const coloured = augmentPixels(image, mask, 16, { ...IDENTITY, brightness: 1.3, contrast: 0.8, gamma: 1.2, hue: 10, saturation: 1.3, blur: 1, noise: 8, noiseSeed: 5 });
    expect(coloured.mask).toEqual(mask);
    expect(coloured.image).not.toEqual(image);
  });

  it("brightens by the factor and turns grey-preserving ops into no change on grey", () => {
    const grey = new Uint8Array(2 * 2 * 3).fill(100);
    const mask = new Uint8Array(4);
    expect([...augmentPixels(grey, mask, 2, { ...IDENTITY, brightness: 1.2 }).image]).toEqual(new Array(12).fill(120));
    // A flat grey image: no contrast to stretch, no hue or saturation to change.
    expect(augmentPixels(grey, mask, 2, { ...IDENTITY, contrast: 1.5, hue: 40, saturation: 0.2 }).image).toEqual(grey);
    expect([...augmentPixels(grey, mask, 2, { ...IDENTITY, gamma: 2 }).image]).toEqual(new Array(12).fill(Math.round(255 * (100 / 255) ** 2)));
  });

  it("blurs a lone bright pixel into a symmetric spot that keeps its total", () => {
    const { image, mask } = onePixel(9, 4, 4);
    image.fill(0);
    image.set([240, 240, 240], (4 * 9 + 4) * 3);
    const out = augmentPixels(image, mask, 9, { ...IDENTITY, blur: 1 });
    const red = (x: number, y: number): number => out.image[(y * 9 + x) * 3]!;
    expect(red(4, 4)).toBeLessThan(240);
    expect([red(3, 4), red(4, 3), red(5, 4)]).toEqual([red(4, 5), red(4, 5), red(4, 5)]);
    expect(red(3, 4)).toBeGreaterThan(red(3, 3));
    const total = out.image.filter((_, i) => i % 3 === 0).reduce((a, b) => a + b, 0);
    expect(Math.abs(total - 240)).toBeLessThanOrEqual(12); // rounding of each of the 81 pixels
  });

  it("adds the same noise for the same seed and other noise for another", () => {
    const image = new Uint8Array(8 * 8 * 3).fill(128);
    const mask = new Uint8Array(64);
    const a = augmentPixels(image, mask, 8, { ...IDENTITY, noise: 8, noiseSeed: 1 });
    expect(augmentPixels(image, mask, 8, { ...IDENTITY, noise: 8, noiseSeed: 1 }).image).toEqual(a.image);
    expect(augmentPixels(image, mask, 8, { ...IDENTITY, noise: 8, noiseSeed: 2 }).image).not.toEqual(a.image);
    const deviation = Math.sqrt(a.image.reduce((sum, v) => sum + (v - 128) ** 2, 0) / a.image.length);
    expect(deviation).toBeGreaterThan(5);
    expect(deviation).toBeLessThan(11);
  });
});

describe("drawAugmentation", () => {
  const draw = (params: AugmentParams, id: string, k: number): Augmentation => drawAugmentation(params, makeRandom(copySeed(42, id, k)));

  it("draws the same values for the same (seed, id, k) and others for another k", () => {
    expect(draw(DEFAULT_PARAMS, "a", 1)).toEqual(draw(DEFAULT_PARAMS, "a", 1));
    expect(draw(DEFAULT_PARAMS, "a", 2)).not.toEqual(draw(DEFAULT_PARAMS, "a", 1));
    expect(drawAugmentation(DEFAULT_PARAMS, makeRandom(copySeed(7, "a", 1)))).not.toEqual(draw(DEFAULT_PARAMS, "a", 1));
  });

  it("stays within the params' bounds", () => {
    for (let k = 1; k <= 200; k++) {
      const a = draw(DEFAULT_PARAMS, "item", k);
      expect(Math.abs(a.rotate)).toBeLessThanOrEqual(15);
      expect(a.scale).toBeGreaterThanOrEqual(0.85);
      expect(a.scale).toBeLessThanOrEqual(1.2);
      expect(Math.max(Math.abs(a.tx), Math.abs(a.ty))).toBeLessThanOrEqual(0.1);
      expect(Math.abs(a.brightness - 1)).toBeLessThanOrEqual(0.25);
      expect(a.gamma).toBeGreaterThanOrEqual(0.7);
      expect(a.gamma).toBeLessThanOrEqual(1.4);
      expect(a.noise).toBeLessThanOrEqual(8);
      if (a.blur !== null) expect(a.blur).toBeGreaterThanOrEqual(0.5);
      if (a.jpeg !== null) expect(Number.isInteger(a.jpeg) && a.jpeg >= 30 && a.jpeg <= 90).toBe(true);
    }
  });

  it("draws identity values for ops switched off, and the others' values as they were", () => {
    const off: AugmentParams = { ...DEFAULT_PARAMS, rotate: 0, scale: null, translate: 0, brightness: 0, contrast: 0, gamma: null, hue: 0, saturation: 0, blur: 0, noise: 0, jpeg: 0 };
    expect({ ...draw(off, "a", 1), noiseSeed: 0 }).toEqual(IDENTITY);
    const all = draw(DEFAULT_PARAMS, "a", 1);
    expect(draw({ ...DEFAULT_PARAMS, rotate: 0, jpeg: 0 }, "a", 1)).toEqual({ ...all, rotate: 0, jpeg: null });
  });
});
