/**
 * For the web-app tests: synthetic eye photos and a Y4M video of them, a quickly trained
 * model, the site served from a local node:http server, and pages opened in
 * headless Chromium with console errors and every request recorded.
 */
import { createReadStream } from "node:fs";
import { copyFile, readFile, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

import { decode } from "fast-png";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import sharp from "sharp";

import { main } from "../../cli/main.js";
import { captureIO } from "../capture-io.js";
import { repoRoot } from "../pipeline/engine-rig.js";
import { guardPage } from "../report/browser.js";
import { generateSyntheticEye } from "../../stages/data/synthetic/generate.js";

/**
 * A synthetic close-up eye of width x height as a PNG file, or (`.jpg`) as a JPEG whose
 * pixels are stored turned a quarter left with EXIF orientation 6, so that it shows
 * upright only to a reader that honours the orientation.
 */
export async function writeEyePhoto(file: string, seed: number, width: number, height: number): Promise<void> {
  const eye = generateSyntheticEye(seed, { width, height, views: ["closeup"] });
  const image = sharp(Buffer.from(eye.rgb), { raw: { width, height, channels: 3 } });
  if (file.endsWith(".jpg")) {
    const turned = await image.rotate(270).raw().toBuffer({ resolveWithObject: true });
    await sharp(turned.data, { raw: { width: turned.info.width, height: turned.info.height, channels: 3 } })
      .jpeg({ quality: 92 })
      .withMetadata({ orientation: 6 })
      .toFile(file);
  } else {
    await image.png().toFile(file);
  }
}

/**
 * A Y4M video (YUV4MPEG2, 4:2:0, BT.601 studio range) of synthetic close-up eyes, one
 * seed a frame, for Chromium's fake camera (--use-file-for-fake-video-capture), which
 * plays it in a loop. Width and height must be even.
 */
export async function writeEyeVideo(file: string, seeds: readonly number[], width: number, height: number, fps = 10): Promise<void> {
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, "latin1");
  const frames: Buffer[] = [header];
  const halfWidth = width / 2;
  for (const seed of seeds) {
    const { rgb } = generateSyntheticEye(seed, { width, height, views: ["closeup"] });
    const y = Buffer.alloc(width * height);
    const u = Buffer.alloc(halfWidth * (height / 2));
    const v = Buffer.alloc(halfWidth * (height / 2));
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
      y[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
    }
    for (let row = 0; row < height / 2; row++) {
      for (let col = 0; col < halfWidth; col++) {
        let [r, g, b] = [0, 0, 0];
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
          const i = ((row * 2 + dy) * width + col * 2 + dx) * 3;
          r += rgb[i]! / 4;
          g += rgb[i + 1]! / 4;
          b += rgb[i + 2]! / 4;
        }
        u[row * halfWidth + col] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
        v[row * halfWidth + col] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
      }
    }
    frames.push(Buffer.from("FRAME\n", "latin1"), y, u, v);
  }
  await writeFile(file, Buffer.concat(frames));
}

/** configs/quickstart.yaml shrunk (40 images of 32x32, 1 + 3 epochs, about 20 s): a model that finds the sclera, with a swept threshold, in `dir`/runs. */
export async function trainQuickstart(dir: string): Promise<void> {
  await copyFile(path.join(repoRoot, "configs", "quickstart.yaml"), path.join(dir, "quickstart.yaml"));
  const shrink = [
    "stages.load.params.source.count=40",
    "stages.load.params.source.min_size=64",
    "stages.load.params.source.max_size=96",
    "stages.resize.params.size=32",
    "stages.finetune1.params.epochs=1",
    "stages.finetune1.params.recompute_bn_stats=2",
    "stages.finetune2.params.epochs=3",
    "stages.finetune2.params.recompute_bn_stats=2",
  ].flatMap((value) => ["--set", value]);
  const io = captureIO(dir);
  const code = await main(["run", "quickstart.yaml", ...shrink], io);
  if (code !== 0) throw new Error(`the shrunk quickstart failed:\n${io.stdout()}${io.stderr()}`);
}

/** A 0/255 greyscale PNG as bytes (one per pixel). */
export function greyPixels(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const image = decode(png);
  const channels = image.channels;
  const pixels = new Uint8Array(image.width * image.height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Number(image.data[i * channels]);
  return { width: image.width, height: image.height, pixels };
}

/** F1 of mask `a` against mask `b` (nonzero = sclera); 1 when both are empty. */
export function maskF1(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`masks differ in size: ${a.length} vs ${b.length} pixels`);
  let both = 0;
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    const inA = a[i] !== 0;
    const inB = b[i] !== 0;
    if (inA && inB) both++;
    else if (inA) onlyA++;
    else if (inB) onlyB++;
  }
  return both + onlyA + onlyB === 0 ? 1 : (2 * both) / (2 * both + onlyA + onlyB);
}

/** A static server for `root` on 127.0.0.1; close() stops it. */
export async function serveFolder(root: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json" };
  const server = http.createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const file = path.join(root, name.endsWith("/") ? `${name}index.html` : name);
    if (!file.startsWith(root)) {
      response.writeHead(403).end();
      return;
    }
    stat(file)
      .then((info) => {
        if (!info.isFile()) throw new Error("not a file");
        response.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" });
        createReadStream(file).pipe(response);
      })
      .catch(() => response.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Headless Chromium without network chatter; `fakeVideo` (a .y4m file) becomes the camera. */
export async function launchForSite(executablePath: string, fakeVideo?: string): Promise<Browser> {
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--metrics-recording-only",
  ];
  if (fakeVideo !== undefined) args.push("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", `--use-file-for-fake-video-capture=${fakeVideo}`);
  return chromium.launch({ executablePath, args });
}

export interface SitePage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors. */
  readonly errors: string[];
  /** Requests to anywhere but `allowed` origins, file:, data: and blob: (all refused). */
  readonly network: string[];
}

/** A page script that makes every canvas refuse a WebGL context, as on a device without WebGL. */
const NO_WEBGL = `for (const type of [HTMLCanvasElement, typeof OffscreenCanvas === "undefined" ? null : OffscreenCanvas]) {
  if (!type) continue;
  const getContext = type.prototype.getContext;
  type.prototype.getContext = function (kind, ...rest) { return /webgl/.test(kind) ? null : getContext.call(this, kind, ...rest); };
}`;

/**
 * Opens `url` at the given viewport, refusing any request that leaves the site (and, with
 * `noWebgl`, any WebGL context); waits until the page is ready (or failed).
 */
export async function openSite(browser: Browser, url: string, viewport: { width: number; height: number }, allowedOrigin?: string, noWebgl = false): Promise<SitePage> {
  const context = await browser.newContext({ viewport });
  if (noWebgl) await context.addInitScript(NO_WEBGL);
  const page = await context.newPage();
  const { errors, network } = await guardPage(page, (requested) => /^(file|data|blob):/.test(requested) || (allowedOrigin !== undefined && requested.startsWith(`${allowedOrigin}/`)));
  await page.goto(url);
  await page.waitForFunction("document.body.dataset.ready !== undefined", undefined, { timeout: 60_000 });
  return { context, page, errors, network };
}

/** Picks `files` in the photo input and waits until every result is drawn; returns the downloaded masks in order. */
export async function segmentPhotos(page: Page, files: readonly string[]): Promise<{ name: string; png: Uint8Array }[]> {
  await page.setInputFiles("#files", [...files]);
  await page.waitForFunction(`document.querySelectorAll("#results li[data-done]").length === ${files.length}`, undefined, { timeout: 60_000 });
  const links = (await page.evaluate(`Promise.all(Array.from(document.querySelectorAll("#results li a.download")).map(async (a) => {
    const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
    let text = "";
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return { name: a.getAttribute("download"), base64: btoa(text) };
  }))`)) as { name: string; base64: string }[];
  return links.map((link) => ({ name: link.name, png: new Uint8Array(Buffer.from(link.base64, "base64")) }));
}

/** Drops `files` on the drop zone as a user dragging them from the desktop would, and waits for their results. */
export async function dropPhotos(page: Page, files: readonly string[]): Promise<void> {
  const payload = await Promise.all(files.map(async (file) => ({ name: path.basename(file), base64: (await readFile(file)).toString("base64") })));
  const before = (await page.evaluate(`document.querySelectorAll("#results li").length`)) as number;
  await page.evaluate(`(() => {
    const transfer = new DataTransfer();
    for (const { name, base64 } of ${JSON.stringify(payload)}) {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], name, { type: name.endsWith(".png") ? "image/png" : "image/jpeg" }));
    }
    const zone = document.getElementById("drop");
    zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  })()`);
  await page.waitForFunction(`document.querySelectorAll("#results li[data-done]").length === ${before + files.length}`, undefined, { timeout: 60_000 });
}

export async function writeBytes(file: string, bytes: Uint8Array): Promise<void> {
  await writeFile(file, bytes);
}
