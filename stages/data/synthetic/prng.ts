/**
 * A small seeded PRNG for the synthetic-eye generator.
 *
 * Hand-written rather than a dependency because the generator needs three things at
 * once: integer-only state (bit-identical on every machine and Node version), cheap
 * named sub-streams (`fork`) so that adding a random choice to one part of the scene
 * does not shift every later choice, and no allocation per draw. The core is the
 * public-domain SFC32 generator seeded through a SplitMix32-style mixer.
 */

/** Mixes a 32-bit integer into a well-distributed 32-bit integer (a SplitMix32 finaliser). */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A 32-bit hash of a string (FNV-1a), used to name sub-streams. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds from two 32-bit words; use `Rng.fromSeed` for a user-facing integer seed. */
  constructor(lo: number, hi: number) {
    this.a = mix32(lo);
    this.b = mix32(hi ^ 0x5bd1e995);
    this.c = mix32(lo ^ hi ^ 0x1b873593);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Any safe integer (negative included) maps to its own stream. */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
    const lo = ((seed % TWO_POW_32) + TWO_POW_32) % TWO_POW_32;
    const hi = Math.floor(seed / TWO_POW_32) | 0;
    return new Rng(lo, hi);
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Approximately normal (Irwin-Hall of four uniforms): no transcendental functions. */
  normal(mean: number, sd: number): number {
    const s = this.next() + this.next() + this.next() + this.next() - 2;
    return mean + sd * s * 1.7320508075688772;
  }

  /** Normal, clipped to [lo, hi]. */
  clippedNormal(mean: number, sd: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, this.normal(mean, sd)));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }

  /** Picks by relative weight: `[[value, weight], ...]`. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [value, w] of items) {
      r -= w;
      if (r < 0) return value;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new RangeError("weighted pick from an empty list");
    return last[0];
  }

  /** A 32-bit integer seed for hash-based noise fields. */
  seed32(): number {
    return this.nextU32() | 0;
  }

  /** An independent stream named by `label`; does not advance this stream. */
  fork(label: string): Rng {
    return new Rng(this.a ^ hashLabel(label), this.c ^ Math.imul(this.b, 0x85ebca6b) ^ this.d);
  }
}
