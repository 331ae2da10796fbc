/**
 * What shows through the aperture: sclera (tinted, shaded as a sphere, shadowed by the
 * upper lid, with vessels), iris and pupil, the caruncle in the nasal corner, and the
 * specular highlights on the wet surface. Also decides each pixel's class.
 */
import { coverage, smoothstep, type Rgb } from "./geometry.js";
import { IrisGeometry, irisColour } from "./iris.js";
import type { Aperture } from "./lids.js";
import { fbm, ridge } from "./noise.js";
import type { EyeParams } from "./scene.js";

/** Pixel classes of the rendered label map. Only `sclera` reaches the public mask. */
export const PixelClass = { other: 0, sclera: 1, iris: 2, pupil: 3, caruncle: 4, occluded: 5 } as const;

export class EyeballShader {
  readonly iris: IrisGeometry;
  private readonly tmp: [number, number, number] = [0, 0, 0];
  private readonly carU: number;
  private readonly carV: number;
  private readonly carRx: number;
  private readonly carRy: number;

  constructor(
    private readonly eye: EyeParams,
    private readonly ap: Aperture,
  ) {
    this.iris = new IrisGeometry(eye);
    const w = eye.caruncleWidth;
    this.carU = -1 + w * 0.5;
    this.carV = ap.shape.tilt * this.carU + 0.25 * (ap.lowerY(this.carU) - ap.upperY(this.carU));
    this.carRx = w * 0.7;
    this.carRy = Math.max(w * 0.55, 0.6 * (ap.lowerY(this.carU) - ap.upperY(this.carU)));
  }

  /**
   * Colour of the eyeball surface at canonical (u, v), written into `out`; returns the
   * pixel's class by the hard rule (pixel centre inside). Call after `ap.evaluate(u, v)`.
   * `px` is the size of a pixel in canonical units.
   */
  shade(u: number, v: number, px: number, out: [number, number, number]): number {
    const eye = this.eye;
    const ir = this.iris;
    ir.evaluate(u, v);
    const cu = (u - this.carU) / this.carRx;
    const cv = (v - this.carV) / this.carRy;
    const carDist = (Math.sqrt(cu * cu + cv * cv) - 1) * Math.min(this.carRx, this.carRy);

    this.sclera(u, v, ir.dist, carDist, out);
    const irisCov = coverage(ir.dist / px);
    if (irisCov > 0) {
      const c = this.tmp;
      irisColour(eye.iris, ir.q, ir.theta, c);
      const pupilCov = coverage(ir.pupilDist(eye.iris.pupil) / px);
      const pc: Rgb = eye.iris.pupilColour;
      for (let i = 0; i < 3; i++) {
        const withPupil = c[i]! + (pc[i]! - c[i]!) * pupilCov;
        out[i] = out[i]! + (withPupil - out[i]!) * irisCov;
      }
    }
    const carCov = coverage(carDist / px) * (1 - irisCov);
    if (carCov > 0) {
      const n = 1 + 0.12 * fbm(u * 30, v * 30, eye.sclera.seed + 3, 2);
      for (let i = 0; i < 3; i++) out[i] = out[i]! + (eye.caruncleColour[i]! * n - out[i]!) * carCov;
    }
    // Shadow of the upper lid and lashes, and a weaker one along the lower lid.
    const s = eye.sclera;
    const shadow = (1 - s.lidShadow * Math.exp(-Math.max(0, this.ap.gapUpper) / s.lidShadowWidth)) * (1 - 0.35 * s.lidShadow * Math.exp(-Math.max(0, this.ap.gapLower) / (0.6 * s.lidShadowWidth)));
    out[0] *= shadow;
    out[1] *= shadow;
    out[2] *= shadow;
    this.highlights(u, v, px, out);

    if (ir.dist < 0) return ir.pupilDist(eye.iris.pupil) < 0 ? PixelClass.pupil : PixelClass.iris;
    if (carDist < 0) return PixelClass.caruncle;
    return PixelClass.sclera;
  }

  private sclera(u: number, v: number, irisDist: number, carDist: number, out: [number, number, number]): void {
    const eye = this.eye;
    const s = eye.sclera;
    const du = u - eye.ballU;
    const dv = v - eye.ballV;
    const rr = (du * du + dv * dv) / (eye.ballRadius * eye.ballRadius);
    const nz = Math.sqrt(Math.max(0, 1 - rr));
    let k = Math.max(0.2, 1 - s.sideShade * (1 - nz) * 1.8);
    k *= 1 - s.cornerShade * smoothstep(0.5, 1.05, Math.abs(u));
    k *= 1 + 0.06 * fbm(u * 3, v * 3, s.seed + 9, 2);
    // Blotches: the conjunctiva is unevenly pink or yellow.
    const blotch = s.blotch * fbm(u * 2.2 + 4, v * 2.2, s.seed + 17, 2);
    let r = s.base[0] * k * (1 + blotch);
    let g = s.base[1] * k * (1 - 0.3 * Math.abs(blotch));
    let b = s.base[2] * k * (1 - blotch);
    // Conjunctival redness toward the corners and vessels running in from them.
    const away = smoothstep(0.02, 0.5, irisDist);
    const corner = smoothstep(0.35, 1, Math.abs(u));
    const red = s.vessels * (0.18 * corner + 0.04);
    const vessel = Math.max(ridge(u * 2.5, v * 5.5, s.seed, 0.1), 0.75 * ridge(u * 6, v * 11, s.seed + 1, 0.08)) * s.vessels * away * (0.3 + 0.7 * corner);
    const w = Math.min(1, red + 0.8 * vessel);
    r += (s.vesselColour[0] * k - r) * w;
    g += (s.vesselColour[1] * k - g) * w;
    b += (s.vesselColour[2] * k - b) * w;
    // The plica: pinker sclera next to the caruncle.
    const plica = 0.4 * Math.exp(-Math.max(0, carDist) / 0.05);
    r += (eye.caruncleColour[0] - r) * plica;
    g += (eye.caruncleColour[1] - g) * plica;
    b += (eye.caruncleColour[2] - b) * plica;
    out[0] = r;
    out[1] = g;
    out[2] = b;
  }

  private highlights(u: number, v: number, px: number, out: [number, number, number]): void {
    for (const h of this.eye.highlights) {
      const eu = (u - this.iris.cu - h.du) / h.rx;
      const ev = (v - this.iris.cv - h.dv) / h.ry;
      const e = Math.sqrt(eu * eu + ev * ev);
      if (e > 3) continue;
      const hard = coverage(((e - 1) * Math.min(h.rx, h.ry)) / px);
      const soft = Math.exp(-2 * e * e);
      const w = h.strength * (hard + (soft - hard) * h.softness);
      out[0] = out[0] + (1 - out[0]) * w;
      out[1] = out[1] + (1 - out[1]) * w;
      out[2] = out[2] + (1 - out[2]) * w;
    }
  }
}
