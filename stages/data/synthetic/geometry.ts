/** Small numeric and geometric helpers shared by the synthetic-eye modules. */

/** A colour with channels in [0, 1] (display-referred, before the camera model). */
export type Rgb = readonly [number, number, number];

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function mix(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = clamp((x - e0) / (e1 - e0), 0, 1);
  return t * t * (3 - 2 * t);
}

/**
 * Area coverage of a pixel by a shape whose signed distance (negative inside) at the
 * pixel centre is `dist`, in pixels: a one-pixel linear ramp. Its 0.5 level is the
 * hard mask's boundary, so image edges are anti-aliased around the exact mask edge.
 */
export function coverage(distPx: number): number {
  return clamp(0.5 - distPx, 0, 1);
}

/**
 * A similarity transform between image pixels and an eye's canonical frame.
 * Canonical units: half the eye's corner-to-corner width. Canonical u points from the
 * nasal (inner) corner at u = -1 to the temporal (outer) corner at u = +1; v points down.
 * `mirror` = -1 when the nasal corner is on the image's right (before rotation).
 */
export interface EyeFrame {
  /** Image position (px) of the canonical origin: the middle of the corner-to-corner line. */
  readonly cx: number;
  readonly cy: number;
  /** In-plane head rotation, radians, clockwise in image coordinates (y down). */
  readonly angle: number;
  /** Pixels per canonical unit. */
  readonly scale: number;
  readonly mirror: 1 | -1;
}

/** Canonical coordinates of image point (x, y), written into `out`. */
export function toCanonical(f: EyeFrame, x: number, y: number, out: [number, number]): void {
  const c = Math.cos(f.angle);
  const s = Math.sin(f.angle);
  const dx = x - f.cx;
  const dy = y - f.cy;
  out[0] = (f.mirror * (c * dx + s * dy)) / f.scale;
  out[1] = (-s * dx + c * dy) / f.scale;
}

/** Image position of canonical point (u, v). */
export function toImage(f: EyeFrame, u: number, v: number): [number, number] {
  const c = Math.cos(f.angle);
  const s = Math.sin(f.angle);
  const a = f.mirror * u * f.scale;
  const b = v * f.scale;
  return [f.cx + c * a - s * b, f.cy + s * a + c * b];
}

/** Integer pixel box [x0, x1) x [y0, y1) covering the canonical box, clipped to the image. */
export function canonicalBoxToPixels(
  f: EyeFrame,
  box: { u0: number; u1: number; v0: number; v1: number },
  width: number,
  height: number,
): { x0: number; x1: number; y0: number; y1: number } {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [u, v] of [
    [box.u0, box.v0],
    [box.u1, box.v0],
    [box.u0, box.v1],
    [box.u1, box.v1],
  ] as const) {
    const [x, y] = toImage(f, u, v);
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return {
    x0: clamp(Math.floor(x0) - 1, 0, width),
    x1: clamp(Math.ceil(x1) + 2, 0, width),
    y0: clamp(Math.floor(y0) - 1, 0, height),
    y1: clamp(Math.ceil(y1) + 2, 0, height),
  };
}
