/**
 * The iris and pupil: where the limbus projects for a given gaze, and the iris's
 * radial texture, collarette, crypts and dark limbal ring.
 *
 * The eyeball is a sphere; the iris is a disc on it facing the gaze direction. Seen
 * from the camera it is an ellipse, foreshortened along the direction it is turned.
 */
import { clamp, mix, smoothstep } from "./geometry.js";
import { fbm, periodicNoise } from "./noise.js";
import type { EyeParams, IrisLook } from "./scene.js";

export class IrisGeometry {
  /** Limbus centre and the unit direction of foreshortening, in canonical units. */
  readonly cu: number;
  readonly cv: number;
  private readonly dx: number;
  private readonly dy: number;
  /** Semi-axes along and across the direction of foreshortening. */
  private readonly along: number;
  private readonly across: number;
  /** Results of the last `evaluate`. */
  q = 0;
  dist = 0;
  theta = 0;
  /** |grad q|: converts differences of q into canonical distances. */
  private grad = 1;

  constructor(eye: EyeParams) {
    // The canonical frame may be mirrored relative to the image; gaze is in image terms.
    const yaw = eye.yaw * eye.frame.mirror;
    const gx = Math.sin(yaw) * Math.cos(eye.pitch);
    const gy = Math.sin(eye.pitch);
    const gz = Math.cos(yaw) * Math.cos(eye.pitch);
    const r = eye.iris.radius;
    // The limbus circle sits a little in front of the sphere's centre plane.
    const depth = Math.sqrt(Math.max(0, eye.ballRadius * eye.ballRadius - r * r));
    this.cu = eye.ballU + depth * gx;
    this.cv = eye.ballV + depth * gy;
    const len = Math.hypot(gx, gy);
    this.dx = len > 1e-6 ? gx / len : 1;
    this.dy = len > 1e-6 ? gy / len : 0;
    this.along = r * clamp(gz, 0.2, 1);
    this.across = r;
  }

  /**
   * Fills `q` (1 on the limbus, 0 at the centre), `dist` (signed distance to the
   * limbus, < 0 inside, first-order) and `theta` (angle around the iris).
   */
  evaluate(u: number, v: number): void {
    const pu = u - this.cu;
    const pv = v - this.cv;
    const a = (pu * this.dx + pv * this.dy) / this.along;
    const b = (-pu * this.dy + pv * this.dx) / this.across;
    const q = Math.sqrt(a * a + b * b);
    this.q = q;
    if (q < 1e-9) {
      this.grad = 1 / Math.min(this.along, this.across);
      this.dist = -1 / this.grad;
      this.theta = 0;
      return;
    }
    const ga = a / this.along;
    const gb = b / this.across;
    this.grad = Math.sqrt(ga * ga + gb * gb) / q;
    this.dist = (q - 1) / this.grad;
    this.theta = Math.atan2(b, a);
  }

  /** Signed distance to the pupil's edge (pupil radius `p` as a fraction of the iris). */
  pupilDist(p: number): number {
    return (this.q - p) / this.grad;
  }
}

const TAU = 2 * Math.PI;

/** Iris colour at normalised radius q and angle theta, written into `out`. */
export function irisColour(look: IrisLook, q: number, theta: number, out: [number, number, number]): void {
  const p = look.pupil;
  const s = clamp((q - p) / (1 - p), 0, 1); // 0 at the pupil edge, 1 at the limbus
  const a = (theta + Math.PI) / TAU; // 0..1 around
  // Collarette: an irregular ring separating the inner (pupillary) and outer zones.
  const ring = 0.3 + 0.12 * (periodicNoise(a * 12, 0.5, 12, look.seed ^ 0x1234) - 0.5);
  const zone = smoothstep(ring - 0.06, ring + 0.06, s);
  let r = mix(look.inner[0], look.outer[0], zone);
  let g = mix(look.inner[1], look.outer[1], zone);
  let b = mix(look.inner[2], look.outer[2], zone);
  // Radial fibres: noise stretched along the radius, periodic around the circle.
  const fib =
    periodicNoise(a * look.fibres, s * 2.5, look.fibres, look.seed) * 0.6 +
    periodicNoise(a * look.fibres * 2, s * 4 + 7, look.fibres * 2, look.seed + 77) * 0.4;
  let k = 1 + look.fibreContrast * (fib - 0.5) * 2;
  // Crypts: darker pits in the outer zone.
  const crypt = fbm(Math.cos(theta) * 5 * s + 3, Math.sin(theta) * 5 * s - 2, look.seed + 5, 2);
  k *= 1 - 0.3 * smoothstep(0.15, 0.45, crypt) * zone;
  // Limbal ring and a slight darkening toward the pupil.
  k *= 1 - look.limbal * smoothstep(1 - look.limbalWidth, 1.0, q);
  k *= 1 - 0.25 * smoothstep(0.12, 0, s);
  r *= k;
  g *= k;
  b *= k;
  out[0] = r;
  out[1] = g;
  out[2] = b;
}
