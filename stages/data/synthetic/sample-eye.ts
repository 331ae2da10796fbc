/** Draws the parameters of one eye: lid shape, gaze, iris, sclera, lashes, highlights. */
import type { EyeFrame, Rgb } from "./geometry.js";
import { hairColour, irisPalette, pinkTissue, scleraBase } from "./palettes.js";
import type { Rng } from "./prng.js";
import type { EyeParams, Gaze, Highlight, LidShape, LightLevel } from "./scene.js";

export interface EyeContext {
  readonly frame: EyeFrame;
  readonly gaze: Gaze;
  readonly light: LightLevel;
  readonly skin: Rgb;
}

/** Gaze angles (radians) for a category: yaw > 0 toward image right, pitch > 0 down. */
export function sampleGazeAngles(rng: Rng, gaze: Gaze): { yaw: number; pitch: number } {
  switch (gaze) {
    case "left":
      return { yaw: -rng.range(0.22, 0.55), pitch: rng.normal(0, 0.07) };
    case "right":
      return { yaw: rng.range(0.22, 0.55), pitch: rng.normal(0, 0.07) };
    case "up":
      return { yaw: rng.normal(0, 0.1), pitch: -rng.range(0.18, 0.38) };
    case "down":
      return { yaw: rng.normal(0, 0.1), pitch: rng.range(0.18, 0.38) };
    case "centre":
      return { yaw: rng.normal(0, 0.08), pitch: rng.normal(0, 0.06) };
  }
}

function sampleLids(rng: Rng, gaze: Gaze): LidShape {
  // The upper lid follows vertical gaze: raised looking up, lowered looking down.
  const follow = gaze === "up" ? 0.08 : gaze === "down" ? -0.12 : 0;
  const squint = rng.chance(0.08) ? rng.range(0.5, 0.75) : 1;
  return {
    tilt: rng.clippedNormal(-0.05, 0.05, -0.18, 0.08),
    upper: rng.clippedNormal(0.42 + follow, 0.09, 0.2, 0.66) * squint,
    lower: rng.clippedNormal(0.27 + (gaze === "down" ? 0.03 : 0), 0.06, 0.13, 0.42) * (0.5 + 0.5 * squint),
    upperPeak: rng.clippedNormal(-0.08, 0.12, -0.4, 0.25),
    lowerPeak: rng.clippedNormal(0.15, 0.12, -0.1, 0.45),
    upperPow: rng.range(0.55, 1.0),
    lowerPow: rng.range(0.7, 1.3),
  };
}

function sampleHighlights(rng: Rng, irisRadius: number): Highlight[] {
  const out: Highlight[] = [];
  // The camera's or a lamp's reflection on the cornea: a small, sharp spot.
  const main = rng.range(0.02, 0.075);
  out.push({
    du: rng.normal(0, 0.3 * irisRadius),
    dv: rng.normal(-0.05, 0.3 * irisRadius),
    rx: main,
    ry: main * rng.range(0.7, 1.3),
    strength: rng.range(0.55, 1.0),
    softness: rng.range(0, 0.35),
  });
  const extra = rng.weighted([
    [0, 0.35],
    [1, 0.45],
    [2, 0.2],
  ]);
  for (let i = 0; i < extra; i++) {
    // Windows and second lamps: larger, softer, anywhere on the cornea or the wet sclera.
    out.push({
      du: rng.normal(0, 0.6 * irisRadius),
      dv: rng.normal(0, 0.45 * irisRadius),
      rx: rng.range(0.03, 0.16),
      ry: rng.range(0.02, 0.1),
      strength: rng.range(0.15, 0.6),
      softness: rng.range(0.3, 1),
    });
  }
  return out;
}

export function sampleEye(rng: Rng, ctx: EyeContext): EyeParams {
  const lids = sampleLids(rng, ctx.gaze);
  const { yaw, pitch } = sampleGazeAngles(rng, ctx.gaze);
  const palette = irisPalette(rng);
  const irisRadius = rng.clippedNormal(0.44, 0.05, 0.33, 0.56);
  const lowLight = ctx.light !== "normal";
  const pupilColour: Rgb = rng.chance(lowLight ? 0.35 : 0.1)
    ? [rng.range(0.2, 0.45), rng.range(0.08, 0.16), rng.range(0.08, 0.16)] // red reflex
    : [rng.range(0.01, 0.05), rng.range(0.01, 0.05), rng.range(0.015, 0.06)];
  const scleraRng = rng.fork("sclera");
  const lashRng = rng.fork("lashes");
  const lidTint = rng.weighted<Rgb>([
    [[1, 1, 1], 0.7],
    [[1.05, 0.96, 0.96], 0.15],
    [[rng.range(0.6, 0.85), rng.range(0.6, 0.8), rng.range(0.6, 0.85)], 0.15],
  ]);
  return {
    frame: ctx.frame,
    lids,
    lidLook: {
      lashLine: rng.range(0.03, 0.08),
      lashLineDark: rng.range(0.45, 0.85),
      waterline: rng.range(0.02, 0.05),
      waterlineColour: pinkTissue(rng, ctx.skin),
      creaseGap: rng.range(0.14, 0.45),
      creaseDark: rng.range(0.04, 0.3),
      lidTint,
      underEyeDark: rng.range(0, 0.25),
    },
    ballU: rng.normal(0, 0.04),
    ballV: (lids.lower - lids.upper) * 0.25 + rng.normal(0, 0.03),
    ballRadius: rng.range(1.12, 1.3),
    yaw,
    pitch,
    iris: {
      colour: palette.colour,
      radius: irisRadius,
      pupil: lowLight ? rng.range(0.38, 0.62) : rng.range(0.22, 0.5),
      outer: palette.outer,
      inner: palette.inner,
      pupilColour,
      limbal: rng.range(0.3, 0.85),
      limbalWidth: rng.range(0.08, 0.22),
      fibres: rng.int(36, 110),
      fibreContrast: rng.range(0.1, 0.45),
      seed: rng.seed32(),
    },
    sclera: {
      base: scleraBase(scleraRng),
      sideShade: scleraRng.range(0.12, 0.45),
      cornerShade: scleraRng.range(0.05, 0.35),
      blotch: scleraRng.range(0.02, 0.12),
      lidShadow: scleraRng.range(0.15, 0.6),
      lidShadowWidth: scleraRng.range(0.05, 0.18),
      vessels: 0.15 + 0.85 * scleraRng.next() ** 0.8,
      vesselColour: [scleraRng.range(0.6, 0.8), scleraRng.range(0.15, 0.3), scleraRng.range(0.15, 0.3)],
      seed: scleraRng.seed32(),
    },
    caruncleWidth: rng.range(0.07, 0.17),
    caruncleColour: pinkTissue(rng, ctx.skin),
    highlights: sampleHighlights(rng, irisRadius),
    lashes: {
      upperCount: lashRng.int(45, 150),
      lowerCount: lashRng.int(12, 45),
      upperLength: lashRng.range(0.16, 0.42),
      lowerLength: lashRng.range(0.05, 0.15),
      width: lashRng.range(0.006, 0.016),
      droop: lashRng.range(0, 0.7),
      colour: hairColour(lashRng),
      seed: lashRng.seed32(),
    },
  };
}

/** The other eye of the same face: mirrored, same gaze and colours, slightly different shape. */
export function partnerEye(rng: Rng, eye: EyeParams, frame: EyeFrame): EyeParams {
  const j = (x: number, sd: number): number => x + rng.normal(0, sd);
  return {
    ...eye,
    frame,
    lids: { ...eye.lids, upper: j(eye.lids.upper, 0.03), lower: j(eye.lids.lower, 0.02), tilt: j(eye.lids.tilt, 0.02) },
    iris: { ...eye.iris, seed: rng.seed32() },
    sclera: { ...eye.sclera, seed: rng.seed32() },
    lashes: { ...eye.lashes, seed: rng.seed32() },
    highlights: eye.highlights.map((h) => ({ ...h, du: j(h.du, 0.03), dv: j(h.dv, 0.03) })),
  };
}
