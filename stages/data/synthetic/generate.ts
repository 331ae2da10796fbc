/**
 * Procedural eye photos with exact sclera masks, for training MU-Net without (or
 * alongside) labelled photographs. See scene.ts for what varies and compose.ts for how
 * a scene becomes pixels.
 *
 * Deterministic: the output depends only on `seed` and `options`, through integer
 * PRNGs and plain float arithmetic, so the same call gives the same bytes anywhere.
 */
import { renderScene, scleraMask } from "./compose.js";
import { sampleScene } from "./sample-scene.js";
import type { View } from "./scene.js";

export interface SyntheticEyeOptions {
  /** Image size in px; when omitted, it varies with the seed (320x240 .. 640x480, several aspect ratios). */
  readonly width?: number;
  readonly height?: number;
  /** Framings to draw from: `closeup` (one eye filling the frame), `webcam`, `face`; default all. */
  readonly views?: readonly View[];
}

export interface SyntheticEye {
  readonly width: number;
  readonly height: number;
  /** height * width * 3, row-major RGB. */
  readonly rgb: Uint8Array;
  /** height * width, 1 = sclera, 0 = other. */
  readonly sclera: Uint8Array;
  /** What was drawn: view, gaze, light, skin (1..6), iris, eye, rotation, ... */
  readonly attributes: Record<string, string>;
}

/**
 * Generates one synthetic eye photo. `seed` must be a safe integer; width and height,
 * when given, integers in 16..8192 (a RangeError names a bad value).
 */
export function generateSyntheticEye(seed: number, options?: SyntheticEyeOptions): SyntheticEye {
  const scene = sampleScene(seed, options ?? {});
  const out = renderScene(scene);
  return { width: out.width, height: out.height, rgb: out.rgb, sclera: scleraMask(out.classes), attributes: { ...scene.attributes } };
}
