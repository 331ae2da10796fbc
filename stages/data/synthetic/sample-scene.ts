/** Draws a whole scene (size, framing, face, eyes, camera, overlays) from a seed. */
import { toImage, type EyeFrame, type Rgb } from "./geometry.js";
import { hairColour, skinTone } from "./palettes.js";
import { Rng } from "./prng.js";
import { partnerEye, sampleEye } from "./sample-eye.js";
import type { CameraLook, FaceLook, Gaze, LightLevel, OverlayLook, Scene, View } from "./scene.js";

export interface SceneOptions {
  readonly width?: number;
  readonly height?: number;
  /** Framings to draw from (default all three, weighted as VIEW_WEIGHTS). */
  readonly views?: readonly View[];
}

/** How often each framing is drawn when all are allowed. */
const VIEW_WEIGHTS: readonly (readonly [View, number])[] = [
  ["closeup", 0.45],
  ["webcam", 0.35],
  ["face", 0.2],
];

export const VIEWS: readonly View[] = VIEW_WEIGHTS.map(([view]) => view);

const SIZES: readonly (readonly [number, number])[] = [
  [320, 240],
  [400, 300],
  [480, 360],
  [640, 480],
  [426, 240],
  [640, 360],
  [320, 320],
  [480, 480],
  [480, 320],
  [600, 400],
  [360, 270],
  [512, 384],
];

function checkDimension(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 16 || value > 8192)) {
    throw new RangeError(`${name} must be an integer in 16..8192, got ${String(value)}`);
  }
}

function sampleSize(rng: Rng, options: SceneOptions): [number, number] {
  checkDimension("width", options.width);
  checkDimension("height", options.height);
  const [w, h] = rng.pick(SIZES);
  if (options.width !== undefined && options.height !== undefined) return [options.width, options.height];
  if (options.width !== undefined) return [options.width, Math.max(16, Math.round((options.width * h) / w))];
  if (options.height !== undefined) return [Math.max(16, Math.round((options.height * w) / h)), options.height];
  return [w, h];
}

function sampleFrame(rng: Rng, view: View, width: number, height: number): EyeFrame {
  const fit = Math.min(width, height * 1.5);
  const mirror = rng.chance(0.5) ? 1 : -1;
  if (view === "closeup") {
    const scale = rng.range(0.3, 0.47) * fit;
    const cut = rng.chance(0.15) ? rng.range(-0.28, 0.28) * width : 0;
    return {
      cx: width / 2 + rng.normal(0, 0.06 * width) + cut,
      cy: height / 2 + rng.normal(0, 0.07 * height),
      angle: rng.clippedNormal(0, 0.3, -0.8, 0.8),
      scale,
      mirror,
    };
  }
  const scale = (view === "webcam" ? rng.range(0.16, 0.3) : rng.range(0.1, 0.16)) * fit;
  const mx = Math.min(scale * 0.8, width * 0.4);
  return {
    cx: rng.range(mx, width - mx),
    cy: rng.range(0.28, 0.72) * height,
    angle: rng.clippedNormal(0, view === "webcam" ? 0.28 : 0.18, -0.8, 0.8),
    scale,
    mirror,
  };
}

function sampleFace(rng: Rng, skin: Rgb, view: View, frame: EyeFrame): FaceLook {
  let occluder: FaceLook["occluder"] = null;
  if (view !== "closeup" && rng.chance(0.4)) {
    // A straight-ish boundary at least ~1.7 eye widths from the eye's centre.
    const a = rng.range(0, 2 * Math.PI);
    const nx = Math.cos(a);
    const ny = Math.sin(a);
    const dist = rng.range(1.7, 4) * frame.scale;
    const kind = rng.pick(["hair", "headphones", "background"] as const);
    const colour: Rgb =
      kind === "hair" ? hairColour(rng) : kind === "headphones" ? [0.09, 0.09, 0.1] : [rng.range(0.2, 0.5), rng.range(0.2, 0.45), rng.range(0.22, 0.55)];
    occluder = { kind, nx, ny, offsetPx: nx * frame.cx + ny * frame.cy + dist, colour, seed: rng.seed32() };
  }
  return {
    skin,
    textureAmp: rng.range(0.03, 0.08),
    poreAmp: rng.range(0.01, 0.06),
    redness: rng.range(0, 0.35),
    seed: rng.seed32(),
    socketDark: rng.range(0.03, 0.4),
    browBoneLight: rng.range(0, 0.2),
    noseLight: rng.range(0, 0.3),
    eyeSpacing: rng.range(3.9, 4.6),
    brow: rng.chance(0.85)
      ? { v: -rng.range(1.3, 1.9), arch: rng.range(0.1, 0.35), thickness: rng.range(0.14, 0.32), density: rng.range(0.45, 1), colour: hairColour(rng), seed: rng.seed32() }
      : null,
    occluder,
  };
}

function sampleCamera(rng: Rng, light: LightLevel, width: number, height: number): CameraLook {
  const exposure = light === "normal" ? rng.range(0.38, 0.6) : light === "dim" ? rng.range(0.28, 0.44) : rng.range(0.2, 0.34);
  const noise = light === "normal" ? rng.range(0.003, 0.02) : light === "dim" ? rng.range(0.015, 0.04) : rng.range(0.03, 0.075);
  const purple = light === "normal" ? 0.12 : 0.35;
  const cast = rng.weighted<Rgb>([
    [[1, 1, 1], 0.38],
    [[1.1, 0.97, 0.82], 0.2],
    [[0.9, 0.97, 1.1], 0.15],
    [[1.03, 0.87, 1.12], purple],
    [[0.93, 1.05, 0.9], 0.1],
  ]);
  const j = (): number => rng.range(0.95, 1.05);
  const blurClass = rng.weighted([
    [0, 0.3],
    [1, 0.45],
    [2, 0.25],
  ]);
  const blur = blurClass === 0 ? 0 : blurClass === 1 ? rng.range(0.35, 1) : rng.range(1, 2.2);
  return {
    light,
    exposure,
    cast: [cast[0] * j(), cast[1] * j(), cast[2] * j()],
    gradientAngle: rng.range(0, 2 * Math.PI),
    gradient: rng.range(0, 0.6),
    vignette: rng.range(0, 0.45),
    gamma: rng.range(0.8, 1.25),
    blackLevel: light === "normal" ? rng.range(0, 0.03) : rng.range(0.01, 0.07),
    saturation: light === "normal" ? rng.range(0.65, 1.15) : rng.range(0.4, 0.9),
    // Larger frames need proportionally more blur for the same look.
    blurPx: blur * Math.sqrt(Math.min(width, height) / 240),
    noise,
    chroma: rng.range(0.2, 0.8),
    seed: rng.seed32(),
  };
}

function sampleOverlay(rng: Rng, view: View, width: number, height: number): OverlayLook {
  let timestamp: OverlayLook["timestamp"] = null;
  if (rng.chance(view === "closeup" ? 0.06 : 0.25)) {
    const two = (lo: number, hi: number): string => String(rng.int(lo, hi)).padStart(2, "0");
    const text = `20${two(10, 25)}-${two(1, 12)}-${two(1, 28)} ${two(0, 23)}:${two(0, 59)}:${two(0, 59)}`;
    const glyphPx = Math.max(1, Math.round(height * rng.range(0.006, 0.012)));
    const textW = text.length * 4 * glyphPx;
    timestamp = { text, x: Math.round(rng.range(0.01, 0.5) * Math.max(1, width - textW)), y: Math.round(height - glyphPx * rng.range(6.5, 9)), glyphPx };
  }
  const border = rng.chance(view === "face" ? 0.03 : 0.1) ? { angle: rng.range(0.12, 0.6) * (rng.chance(0.5) ? 1 : -1), scale: rng.range(1.0, 1.2) } : null;
  return { timestamp, border };
}

function sampleView(rng: Rng, views: readonly View[] | undefined): View {
  if (views !== undefined) {
    const unknown = views.find((view) => !VIEWS.includes(view));
    if (views.length === 0 || unknown !== undefined) throw new RangeError(`views must be a non-empty subset of ${VIEWS.join(", ")}, got ${JSON.stringify(views)}`);
  }
  // One draw either way, so the other choices of a seed do not depend on `views`.
  return rng.weighted(views === undefined ? VIEW_WEIGHTS : VIEW_WEIGHTS.filter(([view]) => views.includes(view)));
}

/** All random choices for `seed`; the size and allowed framings come from `options` when given. */
export function sampleScene(seed: number, options: SceneOptions = {}): Scene {
  const root = Rng.fromSeed(seed);
  const rng = root.fork("scene");
  const [width, height] = sampleSize(rng, options);
  const view = sampleView(rng, options.views);
  const gaze = rng.weighted<Gaze>([
    ["left", 0.22],
    ["right", 0.22],
    ["up", 0.16],
    ["down", 0.16],
    ["centre", 0.24],
  ]);
  const light = rng.weighted<LightLevel>([
    ["normal", 0.5],
    ["dim", 0.28],
    ["low", 0.22],
  ]);
  const skin = skinTone(rng);
  const frame = sampleFrame(rng, view, width, height);
  const face = sampleFace(rng.fork("face"), skin.colour, view, frame);
  const main = sampleEye(rng.fork("eye"), { frame, gaze, light, skin: skin.colour });
  const eyes = [main];
  if (view !== "closeup") {
    const [cx, cy] = toImage(frame, -face.eyeSpacing, rng.normal(0, 0.1));
    const partnerFrame: EyeFrame = { ...frame, cx, cy, mirror: frame.mirror === 1 ? -1 : 1, scale: frame.scale * rng.range(0.94, 1.06) };
    eyes.push(partnerEye(rng.fork("partner"), main, partnerFrame));
  }
  const camera = sampleCamera(rng.fork("camera"), light, width, height);
  const overlay = sampleOverlay(rng.fork("overlay"), view, width, height);
  const attributes: Record<string, string> = {
    generator: "mu-pipe-synthetic-eye/1",
    seed: String(seed),
    view,
    gaze,
    light,
    skin: String(skin.index),
    iris: main.iris.colour,
    eye: frame.mirror === 1 ? "left" : "right",
    rotation: String(Math.round((frame.angle * 180) / Math.PI)),
    blur: camera.blurPx.toFixed(1),
    noise: camera.noise.toFixed(3),
    occluder: face.occluder === null ? "none" : face.occluder.kind,
    timestamp: overlay.timestamp === null ? "no" : "yes",
    border: overlay.border === null ? "no" : "yes",
  };
  return { width, height, view, gaze, face, eyes, camera, overlay, attributes };
}
