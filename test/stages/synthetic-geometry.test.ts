import { describe, expect, it } from "vitest";
import { coverage, toCanonical, toImage, type EyeFrame } from "../../stages/data/synthetic/geometry.js";
import { IrisGeometry } from "../../stages/data/synthetic/iris.js";
import { Aperture } from "../../stages/data/synthetic/lids.js";
import { Rng } from "../../stages/data/synthetic/prng.js";
import { sampleScene } from "../../stages/data/synthetic/sample-scene.js";

const symmetricLids = { tilt: 0, upper: 0.4, lower: 0.3, upperPeak: 0, lowerPeak: 0, upperPow: 1, lowerPow: 1 };

describe("Rng", () => {
  it("repeats a seed's stream and separates named forks", () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Rng.fromSeed(43).nextU32()).not.toBe(xs[0]);
    const root = Rng.fromSeed(1);
    expect(root.fork("a").nextU32()).not.toBe(root.fork("b").nextU32());
    expect(root.fork("a").nextU32()).toBe(Rng.fromSeed(1).fork("a").nextU32());
  });

  it("keeps draws in range", () => {
    const r = Rng.fromSeed(-5);
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      const k = r.int(2, 4);
      expect(k >= 2 && k <= 4).toBe(true);
    }
  });
});

describe("eye geometry", () => {
  it("maps image points to the canonical frame and back", () => {
    const f: EyeFrame = { cx: 100, cy: 50, angle: 0.3, scale: 40, mirror: -1 };
    const uv: [number, number] = [0, 0];
    toCanonical(f, 130, 70, uv);
    const [x, y] = toImage(f, uv[0], uv[1]);
    expect(x).toBeCloseTo(130, 9);
    expect(y).toBeCloseTo(70, 9);
    // Mirrored: canonical +u (temporal) points to the image's left before rotation.
    const [xt] = toImage({ ...f, angle: 0 }, 1, 0);
    expect(xt).toBe(60);
  });

  it("bounds the aperture by the two lids, closed at the corners", () => {
    const ap = new Aperture(symmetricLids);
    expect(ap.upperY(0)).toBeCloseTo(-0.4, 9);
    expect(ap.lowerY(0)).toBeCloseTo(0.3, 9);
    ap.evaluate(0, 0);
    expect(ap.dist).toBeCloseTo(-0.3, 2); // the lower lid is nearer, and flat at u = 0
    ap.evaluate(0, -0.5);
    expect(ap.dist).toBeCloseTo(0.1, 2);
    ap.evaluate(1.2, 0);
    expect(ap.dist).toBeGreaterThan(0);
    expect(coverage(-0.5)).toBe(1);
    expect(coverage(0)).toBe(0.5);
    expect(coverage(0.5)).toBe(0);
  });

  it("puts the iris in the middle for a straight gaze and foreshortens it when turned", () => {
    const eye = sampleScene(5).eyes[0]!;
    const straight = new IrisGeometry({ ...eye, yaw: 0, pitch: 0, ballU: 0, ballV: 0 });
    expect(straight.cu).toBeCloseTo(0, 9);
    straight.evaluate(eye.iris.radius, 0);
    expect(straight.dist).toBeCloseTo(0, 6);
    const turned = new IrisGeometry({ ...eye, yaw: 0.5, pitch: 0, ballU: 0, ballV: 0, frame: { ...eye.frame, mirror: 1 } });
    expect(turned.cu).toBeGreaterThan(0.3);
    // Narrower along the turn: a point one radius to the side is outside, one radius up is on the rim.
    turned.evaluate(turned.cu + eye.iris.radius, turned.cv);
    expect(turned.dist).toBeGreaterThan(0);
    turned.evaluate(turned.cu, turned.cv + eye.iris.radius);
    expect(turned.dist).toBeCloseTo(0, 6);
  });
});
