/**
 * Eyelids: the two curves that bound the almond-shaped aperture, the signed distance
 * to that aperture, and the look of the lid skin around it (lash line, waterline,
 * crease, under-eye shadow).
 *
 * In canonical units the corners sit at u = -1 (nasal) and u = +1 (temporal) on the
 * corner line v = tilt * u. Each lid is that line moved by a skewed bump
 * (4 t (1 - t))^pow whose peak is at the lid's `peak` u.
 */
import { clamp, smoothstep } from "./geometry.js";
import type { LidLook, LidShape } from "./scene.js";

const MAX_SLOPE = 8;

/** Samples per lid curve table over u in [-1, 1]. */
const TABLE = 1024;

export class Aperture {
  private readonly kUpper: number;
  private readonly kLower: number;
  /** Lid curves tabulated over u in [-1, 1]: upper y, lower y, their slope factors, the upper bump. */
  private readonly tUpper = new Float64Array(TABLE + 1);
  private readonly tLower = new Float64Array(TABLE + 1);
  private readonly tUpperNorm = new Float64Array(TABLE + 1);
  private readonly tLowerNorm = new Float64Array(TABLE + 1);
  private readonly tBump = new Float64Array(TABLE + 1);
  /** Results of the last `evaluate`: signed distance (< 0 inside) and the two lid gaps. */
  dist = 0;
  /** v minus the upper lid: > 0 below the upper lid. */
  gapUpper = 0;
  /** The lower lid minus v: > 0 above the lower lid. */
  gapLower = 0;
  /** The upper lid's bump (0 at the corners, 1 at its peak) at the last u. */
  bumpUpper = 0;

  constructor(readonly shape: LidShape) {
    // Skew t -> t^k so that the bump's maximum (t' = 0.5) falls at t = (peak + 1) / 2.
    this.kUpper = Math.log(0.5) / Math.log(clamp((shape.upperPeak + 1) / 2, 0.2, 0.8));
    this.kLower = Math.log(0.5) / Math.log(clamp((shape.lowerPeak + 1) / 2, 0.2, 0.8));
    const h = 1 / TABLE;
    for (let i = 0; i <= TABLE; i++) {
      const u = -1 + 2 * i * h;
      this.tUpper[i] = this.upperY(u);
      this.tLower[i] = this.lowerY(u);
      this.tBump[i] = this.upperBump(u);
      const su = clamp((this.upperY(u + h) - this.upperY(u - h)) / (2 * h), -MAX_SLOPE, MAX_SLOPE);
      const sl = clamp((this.lowerY(u + h) - this.lowerY(u - h)) / (2 * h), -MAX_SLOPE, MAX_SLOPE);
      this.tUpperNorm[i] = 1 / Math.sqrt(1 + su * su);
      this.tLowerNorm[i] = 1 / Math.sqrt(1 + sl * sl);
    }
  }

  private static bump(u: number, k: number, pow: number): number {
    const t = clamp((u + 1) / 2, 0, 1) ** k;
    const b = 4 * t * (1 - t);
    return b <= 0 ? 0 : b ** pow;
  }

  upperBump(u: number): number {
    return Aperture.bump(u, this.kUpper, this.shape.upperPow);
  }

  upperY(u: number): number {
    return this.shape.tilt * u - this.shape.upper * this.upperBump(u);
  }

  lowerY(u: number): number {
    return this.shape.tilt * u + this.shape.lower * Aperture.bump(u, this.kLower, this.shape.lowerPow);
  }

  /**
   * Fills `dist`, `gapUpper`, `gapLower` and `bumpUpper` for canonical point (u, v),
   * from the tables (linear interpolation). The distance is each vertical gap times its
   * curve's slope factor: exact enough within a few pixels of the boundary, which is
   * all the anti-aliasing needs.
   */
  evaluate(u: number, v: number): void {
    let yu: number;
    let yl: number;
    let nu = 1;
    let nl = 1;
    if (u <= -1 || u >= 1) {
      yu = this.shape.tilt * u;
      yl = yu;
      this.bumpUpper = 0;
    } else {
      const f = ((u + 1) / 2) * TABLE;
      const i = Math.min(TABLE - 1, Math.floor(f));
      const t = f - i;
      yu = this.tUpper[i]! + (this.tUpper[i + 1]! - this.tUpper[i]!) * t;
      yl = this.tLower[i]! + (this.tLower[i + 1]! - this.tLower[i]!) * t;
      nu = this.tUpperNorm[i]! + (this.tUpperNorm[i + 1]! - this.tUpperNorm[i]!) * t;
      nl = this.tLowerNorm[i]! + (this.tLowerNorm[i + 1]! - this.tLowerNorm[i]!) * t;
      this.bumpUpper = this.tBump[i]! + (this.tBump[i + 1]! - this.tBump[i]!) * t;
    }
    this.gapUpper = v - yu;
    this.gapLower = yl - v;
    this.dist = Math.max(-this.gapUpper * nu, -this.gapLower * nl, Math.abs(u) - 1);
  }
}

/**
 * Shades the skin colour `c` (in place) for lid features at canonical u, given the
 * aperture's last evaluation. Every feature fades out smoothly beyond the corners.
 */
export function shadeLidSkin(c: [number, number, number], ap: Aperture, look: LidLook, u: number): void {
  const au = Math.abs(u);
  const fade = smoothstep(1.45, 0.95, au);
  if (fade <= 0) return;
  let k = 1;
  let tintW = 0;
  const above = -ap.gapUpper; // distance above the upper lid margin
  const below = -ap.gapLower; // distance below the lower lid margin
  if (above >= 0) {
    const inner = smoothstep(1.2, 0.97, au);
    // Lash line: dark roots and shadow right at the margin.
    if (above < look.lashLine) k *= 1 - inner * look.lashLineDark * (1 - above / look.lashLine) ** 0.7;
    // Upper-lid skin up to the crease: a soft sheen on its curve, then the crease's shadow.
    const creaseAt = look.creaseGap * (0.45 + 0.55 * ap.bumpUpper);
    const sheen = (above - creaseAt * 0.5) / (creaseAt * 0.45);
    k *= 1 + 0.08 * (1 - look.creaseDark) * Math.exp(-sheen * sheen);
    const t = (above - creaseAt) / 0.06;
    k *= 1 - inner * look.creaseDark * Math.exp(-t * t);
    tintW = smoothstep(creaseAt + 0.08, creaseAt - 0.02, above);
  } else if (below >= 0) {
    const inner = smoothstep(1.12, 0.92, au);
    if (below < look.waterline) {
      // The wet margin of the lower lid: pink tissue, not sclera.
      const w = inner * smoothstep(look.waterline, look.waterline * 0.4, below);
      c[0] += (look.waterlineColour[0] - c[0]) * w;
      c[1] += (look.waterlineColour[1] - c[1]) * w;
      c[2] += (look.waterlineColour[2] - c[2]) * w;
    } else {
      const lash = (below - look.waterline) / 0.035;
      k *= 1 - 0.25 * inner * Math.exp(-lash * lash);
    }
    const bag = (below - 0.38) / 0.22;
    k *= 1 - look.underEyeDark * Math.exp(-bag * bag);
  }
  k = 1 + (k - 1) * fade;
  tintW *= fade;
  c[0] *= k * (1 + (look.lidTint[0] - 1) * tintW);
  c[1] *= k * (1 + (look.lidTint[1] - 1) * tintW);
  c[2] *= k * (1 + (look.lidTint[2] - 1) * tintW);
}
