import { describe, expect, it } from "vitest";
import { renderScene } from "../../stages/data/synthetic/compose.js";
import { PixelClass } from "../../stages/data/synthetic/eyeball.js";
import { generateSyntheticEye } from "../../stages/data/synthetic/generate.js";
import { toCanonical, toImage } from "../../stages/data/synthetic/geometry.js";
import { IrisGeometry } from "../../stages/data/synthetic/iris.js";
import { Aperture } from "../../stages/data/synthetic/lids.js";
import { sampleScene } from "../../stages/data/synthetic/sample-scene.js";
import type { EyeParams, Scene } from "../../stages/data/synthetic/scene.js";

// Small frames keep the suite fast; the geometry scales with the frame.
const W = 192;
const H = 144;
const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);

function luma(rgb: Uint8Array, p: number): number {
  return 0.299 * rgb[p * 3]! + 0.587 * rgb[p * 3 + 1]! + 0.114 * rgb[p * 3 + 2]!;
}

function count(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) n += v;
  return n;
}

describe("generateSyntheticEye", () => {
  it("gives the same bytes for the same seed and different bytes for another", () => {
    const a = generateSyntheticEye(7, { width: W, height: H });
    const b = generateSyntheticEye(7, { width: W, height: H });
    const c = generateSyntheticEye(8, { width: W, height: H });
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(true);
    expect(Buffer.from(a.sclera).equals(Buffer.from(b.sclera))).toBe(true);
    expect(a.attributes).toEqual(b.attributes);
    expect(Buffer.from(a.rgb).equals(Buffer.from(c.rgb))).toBe(false);
  });

  it("honours the requested size and varies the default size with the seed", () => {
    const e = generateSyntheticEye(3, { width: 201, height: 97 });
    expect([e.width, e.height, e.rgb.length, e.sclera.length]).toEqual([201, 97, 201 * 97 * 3, 201 * 97]);
    const onlyWidth = generateSyntheticEye(3, { width: 100 });
    expect(onlyWidth.width).toBe(100);
    expect(onlyWidth.sclera.length).toBe(100 * onlyWidth.height);

    const sizes = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const s = sampleScene(seed);
      expect(s.width * s.height).toBeGreaterThanOrEqual(320 * 240);
      expect(s.width * s.height).toBeLessThanOrEqual(640 * 480);
      sizes.add(`${s.width}x${s.height}`);
    }
    expect(sizes.size).toBeGreaterThan(3);
  });

  it("rejects a bad seed or size, naming the value", () => {
    expect(() => generateSyntheticEye(1.5)).toThrow(/seed must be a safe integer, got 1.5/);
    expect(() => generateSyntheticEye(1, { width: 0 })).toThrow(/width must be an integer in 16..8192, got 0/);
  });

  it("draws only the framings asked for, leaving a seed's eye alone when its framing is allowed", () => {
    const views = SEEDS.map((seed) => generateSyntheticEye(seed, { width: W, height: H, views: ["closeup"] }).attributes["view"]);
    expect(new Set(views)).toEqual(new Set(["closeup"]));
    const closeupSeed = SEEDS.find((seed) => sampleScene(seed, { width: W, height: H }).view === "closeup")!;
    const free = generateSyntheticEye(closeupSeed, { width: W, height: H });
    const restricted = generateSyntheticEye(closeupSeed, { width: W, height: H, views: ["closeup", "face"] });
    expect(Buffer.from(restricted.rgb).equals(Buffer.from(free.rgb))).toBe(true);
    expect(() => generateSyntheticEye(1, { views: [] })).toThrow(/views must be a non-empty subset of closeup, webcam, face, got \[\]/);
  });

  it("returns a binary mask covering a plausible share of the frame", () => {
    for (const seed of SEEDS.slice(0, 20)) {
      const e = generateSyntheticEye(seed, { width: W, height: H });
      expect(e.sclera.every((v) => v === 0 || v === 1)).toBe(true);
      const share = count(e.sclera) / e.sclera.length;
      expect(share, `seed ${seed}`).toBeGreaterThan(0.004);
      expect(share, `seed ${seed}`).toBeLessThan(0.4);
      for (const key of ["gaze", "skin", "iris", "light", "view"]) expect(typeof e.attributes[key]).toBe("string");
    }
  });
});

/** Renders every seed once; the checks below share the renders. */
const rendered = SEEDS.map((seed) => {
  const scene = sampleScene(seed, { width: W, height: H });
  return { seed, scene, out: renderScene(scene) };
});

describe("the mask agrees with the image", () => {
  it("shows sclera brighter than the skin around the aperture in normal light", () => {
    let sclera = 0;
    let skin = 0;
    let brighter = 0;
    let n = 0;
    for (const { scene, out } of rendered) {
      if (scene.camera.light !== "normal") continue;
      const eye = scene.eyes[0]!;
      const ap = new Aperture(eye.lids);
      const uv: [number, number] = [0, 0];
      let sl = 0;
      let sn = 0;
      let kl = 0;
      let kn = 0;
      for (let p = 0; p < out.classes.length; p++) {
        toCanonical(eye.frame, (p % W) + 0.5, Math.floor(p / W) + 0.5, uv);
        ap.evaluate(uv[0], uv[1]);
        if (out.classes[p] === PixelClass.sclera && ap.dist < 0) {
          sl += luma(out.rgb, p);
          sn++;
        } else if (out.classes[p] === PixelClass.other && ap.dist > 0.1 && ap.dist < 0.35) {
          kl += luma(out.rgb, p);
          kn++;
        }
      }
      if (sn === 0 || kn === 0) continue;
      sclera += sl / sn;
      skin += kl / kn;
      if (sl / sn > kl / kn) brighter++;
      n++;
    }
    expect(n).toBeGreaterThan(10);
    expect(sclera / n).toBeGreaterThan(skin / n + 15);
    // Usually brighter, but not always: that would be a shortcut real photos break.
    expect(brighter / n).toBeGreaterThan(0.6);
  });

  it("never marks the iris centre or its surroundings as sclera", () => {
    let checked = 0;
    const marked: string[] = [];
    for (const { scene, out } of rendered) {
      const eye = scene.eyes[0]!;
      const iris = new IrisGeometry(eye);
      const [x, y] = toImage(eye.frame, iris.cu, iris.cv);
      const r = Math.floor(eye.iris.radius * eye.frame.scale * 0.5);
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const px = Math.floor(x) + dx;
          const py = Math.floor(y) + dy;
          if (px < 0 || py < 0 || px >= W || py >= H) continue;
          if (out.classes[py * W + px] === PixelClass.sclera) marked.push(`seed ${scene.attributes.seed} (${px}, ${py})`);
          checked++;
        }
      }
    }
    expect(marked).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it("keeps sclera inside the lid aperture", () => {
    const outside: string[] = [];
    let sclera = 0;
    for (const { scene, out } of rendered) {
      const uv: [number, number] = [0, 0];
      const aps = scene.eyes.map((e) => new Aperture(e.lids));
      for (let p = 0; p < out.classes.length; p++) {
        if (out.classes[p] !== PixelClass.sclera) continue;
        const inside = scene.eyes.some((e, i) => {
          toCanonical(e.frame, (p % W) + 0.5, Math.floor(p / W) + 0.5, uv);
          aps[i]!.evaluate(uv[0], uv[1]);
          return aps[i]!.dist < 0;
        });
        if (!inside) outside.push(`seed ${scene.attributes.seed} pixel ${p}`);
        sclera++;
      }
    }
    expect(outside).toEqual([]);
    expect(sclera).toBeGreaterThan(1000);
  });
});

/** Iris centroid minus aperture centroid along the eye's image-x axis, in eye units. */
function irisOffsetX(scene: Scene, classes: Uint8Array): number {
  const eye = scene.eyes[0]!;
  const uv: [number, number] = [0, 0];
  const ap = new Aperture(eye.lids);
  let iu = 0;
  let inum = 0;
  let au = 0;
  let anum = 0;
  for (let p = 0; p < classes.length; p++) {
    const c = classes[p]!;
    if (c === PixelClass.other) continue;
    toCanonical(eye.frame, (p % scene.width) + 0.5, Math.floor(p / scene.width) + 0.5, uv);
    ap.evaluate(uv[0], uv[1]);
    if (ap.dist >= 0) continue; // another eye
    const imageU = uv[0] * eye.frame.mirror;
    au += imageU;
    anum++;
    if (c === PixelClass.iris || c === PixelClass.pupil) {
      iu += imageU;
      inum++;
    }
  }
  return inum === 0 || anum === 0 ? NaN : iu / inum - au / anum;
}

describe("gaze", () => {
  it("moves the iris toward the side the attribute names", () => {
    let checked = 0;
    for (const { scene, out } of rendered) {
      const gaze = scene.attributes.gaze;
      if (gaze !== "left" && gaze !== "right") continue;
      const off = irisOffsetX(scene, out.classes);
      if (Number.isNaN(off)) continue;
      expect(Math.sign(off), `seed ${scene.attributes.seed}: ${gaze}, offset ${off}`).toBe(gaze === "left" ? -1 : 1);
      checked++;
    }
    expect(checked).toBeGreaterThan(8);
  });

  it("shifts the iris and the sclera when only the gaze changes", () => {
    const base = sampleScene(11, { width: 256, height: 192 });
    const withYaw = (yaw: number): Scene => {
      const eye: EyeParams = { ...base.eyes[0]!, yaw, pitch: 0, frame: { ...base.eyes[0]!.frame, angle: 0, cx: 128, cy: 96, scale: 70 } };
      return { ...base, eyes: [eye], overlay: { timestamp: null, border: null }, face: { ...base.face, occluder: null } };
    };
    const left = withYaw(-0.4);
    const right = withYaw(0.4);
    const l = renderScene(left);
    const r = renderScene(right);
    expect(irisOffsetX(left, l.classes)).toBeLessThan(-0.15);
    expect(irisOffsetX(right, r.classes)).toBeGreaterThan(0.15);
    const scleraX = (cls: Uint8Array): number => {
      let sx = 0;
      let n = 0;
      cls.forEach((c, p) => {
        if (c === PixelClass.sclera) {
          sx += p % 256;
          n++;
        }
      });
      return sx / n;
    };
    // Looking left uncovers sclera on the right, and the other way round.
    expect(scleraX(l.classes)).toBeGreaterThan(scleraX(r.classes) + 5);
  });
});
