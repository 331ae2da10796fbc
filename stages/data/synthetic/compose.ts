/**
 * Renders a `Scene` into an 8-bit RGB image and a label map, layer by layer:
 * face -> eyes (lid skin, then the eyeball through the aperture) -> lashes ->
 * occluder -> camera (light, blur, noise) -> overlays.
 *
 * Pixel (x, y) is the unit square with centre (x + 0.5, y + 0.5). A pixel's label is
 * decided by its centre alone (the hard geometric truth); its colour blends shapes by
 * approximate area coverage, so edges are anti-aliased around the label boundary.
 */
import { EyeballShader, PixelClass } from "./eyeball.js";
import { canonicalBoxToPixels, clamp, coverage } from "./geometry.js";
import { applyCamera } from "./camera.js";
import { drawLashes } from "./lashes.js";
import { Aperture, shadeLidSkin } from "./lids.js";
import { drawOccluder } from "./occluder.js";
import { applyOverlay } from "./overlay.js";
import type { EyeParams, Scene } from "./scene.js";
import { drawFace } from "./skin.js";

export interface RenderedScene {
  readonly width: number;
  readonly height: number;
  /** height * width * 3, row-major RGB. */
  readonly rgb: Uint8Array;
  /** height * width values of `PixelClass`. */
  readonly classes: Uint8Array;
}

function drawEye(eye: EyeParams, width: number, height: number, rgb: Float32Array, classes: Uint8Array): void {
  const f = eye.frame;
  const ap = new Aperture(eye.lids);
  const shader = new EyeballShader(eye, ap);
  const box = canonicalBoxToPixels(f, { u0: -1.5, u1: 1.5, v0: -1.3, v1: 1.1 }, width, height);
  const c = Math.cos(f.angle);
  const s = Math.sin(f.angle);
  const px = 1 / f.scale;
  const skin: [number, number, number] = [0, 0, 0];
  const ball: [number, number, number] = [0, 0, 0];
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const dx = x + 0.5 - f.cx;
      const dy = y + 0.5 - f.cy;
      const u = (f.mirror * (c * dx + s * dy)) / f.scale;
      const v = (-s * dx + c * dy) / f.scale;
      if (u < -1.5 || u > 1.5 || v < -1.3 || v > 1.1) continue;
      const i = (y * width + x) * 3;
      skin[0] = rgb[i]!;
      skin[1] = rgb[i + 1]!;
      skin[2] = rgb[i + 2]!;
      ap.evaluate(u, v);
      shadeLidSkin(skin, ap, eye.lidLook, u);
      const cov = coverage(ap.dist / px);
      if (cov > 0) {
        const cls = shader.shade(u, v, px, ball);
        if (ap.dist < 0) classes[y * width + x] = cls;
        for (let k = 0; k < 3; k++) skin[k] = skin[k]! + (ball[k]! - skin[k]!) * cov;
      }
      rgb[i] = skin[0];
      rgb[i + 1] = skin[1];
      rgb[i + 2] = skin[2];
    }
  }
}

export function renderScene(scene: Scene): RenderedScene {
  const { width, height } = scene;
  const n = width * height;
  const rgbF = new Float32Array(n * 3);
  const classes = new Uint8Array(n);
  drawFace(scene.face, scene.eyes[0]!.frame, width, height, rgbF);
  for (const eye of scene.eyes) drawEye(eye, width, height, rgbF, classes);
  drawLashes(scene.eyes, width, height, rgbF, classes);
  drawOccluder(scene.face, width, height, rgbF, classes);
  applyCamera(scene.camera, width, height, rgbF);
  applyOverlay(scene.overlay, width, height, rgbF, classes);
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round(clamp(rgbF[i]!, 0, 1) * 255);
  return { width, height, rgb, classes };
}

/** The binary sclera mask (1 = sclera) of a label map. */
export function scleraMask(classes: Uint8Array): Uint8Array {
  const out = new Uint8Array(classes.length);
  for (let i = 0; i < classes.length; i++) out[i] = classes[i] === PixelClass.sclera ? 1 : 0;
  return out;
}
