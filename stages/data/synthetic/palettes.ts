/**
 * Colour palettes for skin, irises, sclerae and small tissues, with the jitter that
 * keeps any two samples from sharing an exact colour. Values are rough display RGB in
 * [0, 1], picked by eye from photographs (not measured).
 */
import type { Rgb } from "./geometry.js";
import type { Rng } from "./prng.js";
import type { IrisColour } from "./scene.js";

/** Six skin tones from very light (1) to very dark (6). */
const SKIN: readonly Rgb[] = [
  [0.9, 0.75, 0.66],
  [0.85, 0.66, 0.54],
  [0.78, 0.57, 0.43],
  [0.64, 0.44, 0.31],
  [0.47, 0.31, 0.21],
  [0.31, 0.2, 0.14],
];

export function skinTone(rng: Rng): { index: number; colour: Rgb } {
  const index = rng.int(1, SKIN.length);
  const base = SKIN[index - 1] ?? SKIN[0]!;
  const brightness = rng.range(0.9, 1.08);
  // Undertone: toward yellow-olive or toward pink.
  const under = rng.range(-1, 1);
  return {
    index,
    colour: [
      base[0] * brightness * (1 + 0.03 * under),
      base[1] * brightness * (1 + 0.02 * Math.abs(under)),
      base[2] * brightness * (1 - 0.06 * under),
    ],
  };
}

const IRIS: Record<IrisColour, { outer: Rgb; inner: Rgb }> = {
  brown: { outer: [0.33, 0.2, 0.11], inner: [0.45, 0.28, 0.13] },
  "dark-brown": { outer: [0.13, 0.08, 0.055], inner: [0.2, 0.12, 0.07] },
  hazel: { outer: [0.36, 0.36, 0.2], inner: [0.5, 0.32, 0.13] },
  green: { outer: [0.3, 0.4, 0.27], inner: [0.46, 0.4, 0.2] },
  blue: { outer: [0.3, 0.43, 0.58], inner: [0.5, 0.58, 0.66] },
  grey: { outer: [0.38, 0.42, 0.45], inner: [0.5, 0.52, 0.52] },
};

export function irisPalette(rng: Rng): { colour: IrisColour; outer: Rgb; inner: Rgb } {
  const colour = rng.weighted<IrisColour>([
    ["brown", 0.3],
    ["dark-brown", 0.25],
    ["hazel", 0.12],
    ["green", 0.1],
    ["blue", 0.15],
    ["grey", 0.08],
  ]);
  const p = IRIS[colour];
  const k = rng.range(0.7, 1.25);
  const j = (c: number): number => Math.min(1, c * k * rng.range(0.92, 1.08));
  return { colour, outer: [j(p.outer[0]), j(p.outer[1]), j(p.outer[2])], inner: [j(p.inner[0]), j(p.inner[1]), j(p.inner[2])] };
}

/** The sclera is never flat white: a tint times a brightness. */
export function scleraBase(rng: Rng): Rgb {
  const tint = rng.weighted<Rgb>([
    [[0.93, 0.91, 0.88], 0.3],
    [[0.91, 0.86, 0.74], 0.25],
    [[0.93, 0.83, 0.81], 0.25],
    [[0.85, 0.85, 0.86], 0.2],
  ]);
  const k = rng.range(0.74, 1.0);
  return [tint[0] * k, tint[1] * k, tint[2] * k];
}

export function pinkTissue(rng: Rng, skin: Rgb): Rgb {
  const k = rng.range(0.75, 1.05);
  return [(0.55 + 0.35 * skin[0]) * k, (0.28 + 0.25 * skin[1]) * k, (0.27 + 0.25 * skin[2]) * k];
}

export function hairColour(rng: Rng): Rgb {
  const k = rng.range(0.03, 0.2);
  return [k * rng.range(1.0, 1.5), k * rng.range(0.9, 1.15), k];
}
