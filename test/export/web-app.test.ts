/**
 * `mu-pipe export --format web` in headless Chromium: the site loads its model and TF.js
 * from disk (file://) and from a static server with no other request, shows the backend
 * in use (WebGL, or WASM when asked), the mask a user downloads for a photo agrees
 * with `mu-pipe predict`'s (F1 >= 0.99), and the camera mode segments frames of
 * Chromium's fake camera (a Y4M of synthetic eyes) showing ms per frame. Screenshots at
 * phone and desktop size go to test-artifacts/screenshots/.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import * as tf from "@tensorflow/tfjs";

import { main } from "../../cli/main.js";
import { saveModelFolder, type ModelMetadata } from "../../stages/model/model-folder.js";
import { NO_CHROMIUM, findChromium, screenshot } from "../report/browser.js";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { captureIO } from "./tiny-model.js";
import { dropPhotos, greyPixels, launchForSite, maskF1, openSite, segmentPhotos, serveFolder, trainQuickstart, writeEyePhoto, writeEyeVideo } from "./web-rig.js";

const executable = findChromium();
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const NARROW_PHONE = { width: 360, height: 740 };
/**
 * `minF1`: the agreement asked of the browser's mask. PNGs: 0.99 (resize.js reproduces
 * sharp's resize). The JPEG less: for a photo 2x the model input or more, sharp decodes
 * JPEGs already shrunk (libjpeg's DCT scaling, "shrink-on-load") and resizes an
 * EXIF-rotated photo before turning it; a browser decodes at full size, upright.
 */
const PHOTOS = [
  { name: "eye-wide.png", seed: 11, width: 320, height: 240, minF1: 0.99 },
  { name: "eye-tall.png", seed: 12, width: 180, height: 250, minF1: 0.99 },
  // A phone photo: JPEG, stored sideways with EXIF orientation 6.
  { name: "eye-phone.jpg", seed: 13, width: 400, height: 300, minF1: 0.95 },
];

/**
 * A model far from mirror-symmetric, its threshold chosen with flip TTA: a pixel's
 * probability is the red value / 255 of the pixel 8 columns to its left (a 1x17
 * convolution whose only weight is its first tap).
 */
async function saveShiftedRedModel(dir: string): Promise<void> {
  const size = 64;
  const model = tf.sequential({
    layers: [tf.layers.conv2d({ inputShape: [size, size, 3], filters: 1, kernelSize: [1, 17], padding: "same", useBias: false, name: "shifted_red" })],
  });
  const kernel = tf.buffer([1, 17, 3, 1]);
  kernel.set(1, 0, 0, 0, 0);
  const weights = kernel.toTensor();
  model.layers[0]?.setWeights([weights]);
  const metadata: ModelMetadata = { version: 1, format: "mu-pipe-model", alpha: 0.35, inputSize: size, decoderFilters: [8, 8, 8, 8], inputScaling: "unit", threshold: 0.5, tta: "flip", createdBy: "mu-pipe test" };
  await saveModelFolder(model, dir, metadata);
  weights.dispose();
  model.dispose();
}

function expectAgreement(f1: readonly number[]): void {
  expect(f1.map((value, i) => value >= (PHOTOS[i]?.minF1 ?? 1))).toEqual(PHOTOS.map(() => true));
}

describe.skipIf(skipUnlessAvailable("Chromium", executable === null ? NO_CHROMIUM : null))("the exported web app in Chromium", () => {
  let dir: string;
  let site: string;
  let browser: Browser;
  let server: { origin: string; close: () => Promise<void> };
  let photos: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-web-app-"));
    photos = [];
    for (const photo of PHOTOS) {
      const file = path.join(dir, photo.name);
      await writeEyePhoto(file, photo.seed, photo.width, photo.height);
      photos.push(file);
    }
    await trainQuickstart(dir);
    const io = captureIO(dir);
    expect(await main(["export", "latest", "--format", "web", "--out", "site"], io), io.stderr()).toBe(0);
    expect(io.stdout()).toContain("as a web app: site");
    const predicted = captureIO(dir);
    expect(await main(["predict", "--model", "latest", ...PHOTOS.map((p) => p.name), "--out", "predicted"], predicted), predicted.stderr()).toBe(0);
    site = path.join(dir, "site");
    server = await serveFolder(site);
    await writeEyeVideo(path.join(dir, "eyes.y4m"), [21, 22, 23, 24], 320, 240);
    browser = await launchForSite(executable ?? "", path.join(dir, "eyes.y4m"));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function agreement(url: string, origin: string | undefined, shot: string): Promise<{ backend: string; f1: number[] }> {
    const opened = await openSite(browser, url, PHONE, origin);
    try {
      const { page } = opened;
      expect(await page.evaluate("document.body.dataset.ready")).toBe("true");
      const backend = (await page.textContent("#backend")) ?? "";
      const masks = await segmentPhotos(page, photos);
      await screenshot(page, shot);
      const f1: number[] = [];
      for (const [i, photo] of PHOTOS.entries()) {
        const mask = masks[i];
        expect(mask?.name).toBe(photo.name.replace(/\.\w+$/, "-mask.png"));
        const browserMask = greyPixels(mask?.png ?? new Uint8Array());
        const predictMask = greyPixels(await readFile(path.join(dir, "predicted", "Binarised", photo.name.replace(/\.\w+$/, ".png"))));
        expect([browserMask.width, browserMask.height]).toEqual([photo.width, photo.height]);
        expect(new Set(browserMask.pixels)).toEqual(new Set([0, 255]));
        f1.push(maskF1(browserMask.pixels, predictMask.pixels));
      }
      expect(opened.errors).toEqual([]);
      expect(opened.network).toEqual([]);
      return { backend, f1 };
    } finally {
      await opened.context.close();
    }
  }

  it("from a static server: picks WebGL or WASM, shows it, and its masks agree with mu-pipe predict", async () => {
    const { backend, f1 } = await agreement(`${server.origin}/index.html`, server.origin, "web-app-photos-phone");
    expect(["webgl", "wasm"]).toContain(backend);
    console.log(`web app (http, ${backend}): mask F1 against mu-pipe predict ${f1.map((v) => v.toFixed(6)).join(", ")}`);
    expectAgreement(f1);
  }, 120_000);

  it("from a static server with ?backend=wasm: runs on WASM with the same masks", async () => {
    const { backend, f1 } = await agreement(`${server.origin}/index.html?backend=wasm`, server.origin, "web-app-photos-wasm-http");
    expect(backend).toBe("wasm");
    console.log(`web app (http, wasm): mask F1 against mu-pipe predict ${f1.map((v) => v.toFixed(6)).join(", ")}`);
    expectAgreement(f1);
  }, 120_000);

  it("opened from disk (file://) on WASM: loads model and WASM without fetch, masks agree", async () => {
    const { backend, f1 } = await agreement(`${pathToFileURL(path.join(site, "index.html")).href}?backend=wasm`, undefined, "web-app-photos-wasm-file");
    expect(backend).toBe("wasm");
    console.log(`web app (file://, wasm): mask F1 against mu-pipe predict ${f1.map((v) => v.toFixed(6)).join(", ")}`);
    expectAgreement(f1);
  }, 120_000);

  it("opened from disk (file://) with the default backend, at desktop size: photos dropped on the page", async () => {
    const opened = await openSite(browser, pathToFileURL(path.join(site, "index.html")).href, DESKTOP);
    try {
      expect(await opened.page.evaluate("document.body.dataset.ready")).toBe("true");
      await dropPhotos(opened.page, photos);
      const done = (await opened.page.evaluate(`Array.from(document.querySelectorAll("#results li")).map((li) => li.dataset.done + " " + li.dataset.width + "x" + li.dataset.height)`)) as string[];
      expect(done).toEqual(PHOTOS.map((p) => `true ${p.width}x${p.height}`));
      await screenshot(opened.page, "web-app-photos-desktop");
      expect(opened.errors).toEqual([]);
      expect(opened.network).toEqual([]);
    } finally {
      await opened.context.close();
    }
  }, 120_000);

  it("falls back to WASM by itself where WebGL is missing", async () => {
    const opened = await openSite(browser, pathToFileURL(path.join(site, "index.html")).href, PHONE, undefined, true);
    try {
      expect(await opened.page.evaluate("document.body.dataset.ready")).toBe("true");
      expect(await opened.page.textContent("#backend")).toBe("wasm");
      const masks = await segmentPhotos(opened.page, photos.slice(0, 1));
      const predictMask = greyPixels(await readFile(path.join(dir, "predicted", "Binarised", PHOTOS[0]?.name ?? "")));
      expect(maskF1(greyPixels(masks[0]?.png ?? new Uint8Array()).pixels, predictMask.pixels)).toBeGreaterThanOrEqual(0.99);
      expect(opened.errors).toEqual([]);
      expect(opened.network).toEqual([]);
    } finally {
      await opened.context.close();
    }
  }, 120_000);

  it("a model whose threshold was chosen with flip TTA: the page averages with the mirror, as mu-pipe predict does", async () => {
    await saveShiftedRedModel(path.join(dir, "tta-model"));
    for (const args of [
      ["export", "tta-model", "--format", "web", "--out", "site-tta"],
      ["predict", "--model", "tta-model", ...PHOTOS.map((p) => p.name), "--out", "predicted-tta"],
      ["predict", "--model", "tta-model", "--tta", "none", ...PHOTOS.map((p) => p.name), "--out", "predicted-plain"],
    ]) {
      const io = captureIO(dir);
      expect(await main(args, io), io.stderr()).toBe(0);
    }
    const opened = await openSite(browser, `${pathToFileURL(path.join(dir, "site-tta", "index.html")).href}?backend=wasm`, PHONE);
    try {
      expect(await opened.page.textContent("#tta")).toBe("flip (mean with the mirrored photo)");
      const masks = await segmentPhotos(opened.page, photos);
      const f1 = async (folder: string, i: number): Promise<number> => {
        const name = (PHOTOS[i]?.name ?? "").replace(/\.\w+$/, ".png");
        return maskF1(greyPixels(masks[i]?.png ?? new Uint8Array()).pixels, greyPixels(await readFile(path.join(dir, folder, "Binarised", name))).pixels);
      };
      const withTta = await Promise.all(PHOTOS.map((_, i) => f1("predicted-tta", i)));
      const plain = await Promise.all(PHOTOS.map((_, i) => f1("predicted-plain", i)));
      console.log(`web app with flip TTA: mask F1 against predict with TTA ${withTta.map((v) => v.toFixed(4)).join(", ")}; against predict without ${plain.map((v) => v.toFixed(4)).join(", ")}`);
      expectAgreement(withTta);
      expect(plain.every((value) => value < 0.95)).toBe(true);
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.context.close();
    }
  }, 120_000);

  async function camera(backend: "webgl" | "wasm"): Promise<number> {
    const opened = await openSite(browser, `${server.origin}/index.html?backend=${backend}`, NARROW_PHONE, server.origin);
    try {
      const { page } = opened;
      expect(await page.textContent("#backend")).toBe(backend);
      await page.click("#mode-camera");
      expect(await page.isVisible("#photos")).toBe(false);
      await page.click("#camera-start");
      await page.waitForFunction(`Number(document.getElementById("camera-view").dataset.frames || 0) >= 15`, undefined, { timeout: 60_000 });
      const frame = (await page.evaluate(`(() => {
        const view = document.getElementById("camera-view");
        return { width: view.width, height: view.height, sclera: Number(view.dataset.scleraPixels), speed: document.getElementById("camera-speed").textContent, ms: Number(document.getElementById("camera-speed").dataset.ms) };
      })()`)) as { width: number; height: number; sclera: number; speed: string; ms: number };
      await screenshot(page, `web-app-camera-${backend}-phone`);
      expect([frame.width, frame.height]).toEqual([320, 240]);
      expect(frame.sclera).toBeGreaterThan(0);
      expect(frame.sclera).toBeLessThan(320 * 240);
      expect(frame.speed).toMatch(/^\d+ ms per frame$/);
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(NARROW_PHONE.width);
      await page.click("#camera-stop");
      expect(opened.errors).toEqual([]);
      expect(opened.network).toEqual([]);
      return frame.ms;
    } finally {
      await opened.context.close();
    }
  }

  it("camera mode on WebGL at 360 px wide: segments the fake camera's frames and shows ms per frame", async () => {
    const ms = await camera("webgl");
    console.log(`web app camera (webgl, 320x240 frames): ${ms.toFixed(1)} ms per frame`);
  }, 120_000);

  it("camera mode on WASM: segments frames too", async () => {
    const ms = await camera("wasm");
    console.log(`web app camera (wasm, 320x240 frames): ${ms.toFixed(1)} ms per frame`);
  }, 120_000);
});
