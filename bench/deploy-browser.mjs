// Inference latency of a `mu-pipe export --format web` site in headless Chromium, for
// bench/deploy.mjs: opens the site from disk (file://, every other request refused) with
// ?backend=wasm and ?backend=webgl, loads the page's model (window.MU_MODEL) into TF.js
// on the backend the page chose, and times --runs predictions of one fixed image after
// --warmup untimed ones, the output read back each time (as the app does). Prints one
// JSON line: per backend the median and best ms, the backend the page really runs and,
// for WebGL, the renderer (with --disable-gpu that is SwiftShader, software).
// WASM runs on one thread: the site switches tfjs-backend-wasm's threads off. Software
// WebGL can take seconds an image, so timing stops early (after at least 3 runs) once the
// timed runs add up to --budget seconds; the JSON says how many ran.
// Usage: node bench/deploy-browser.mjs --site <folder> [--chromium /usr/bin/chromium] [--runs 30] [--warmup 5] [--budget 60]
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values } = parseArgs({
  options: {
    site: { type: "string" },
    chromium: { type: "string", default: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    budget: { type: "string", default: "60" },
  },
});
if (values.site === undefined || !existsSync(path.join(values.site, "index.html"))) {
  console.error("usage: node bench/deploy-browser.mjs --site <folder with index.html> [--chromium <path>] [--runs 30] [--warmup 5]");
  process.exit(2);
}
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const budgetMs = Number(values.budget) * 1000;

// Runs in the page: the model as the app loads it, a fixed image, the timed loop.
const TIME_IN_PAGE = `async ({ runs, warmup, budgetMs }) => {
  const model = window.MU_MODEL;
  const size = model.metadata.inputSize;
  const text = atob(model.weightData);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const net = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: model.weightSpecs, weightData: bytes.buffer }));
  const values = new Float32Array(size * size * 3);
  let state = 1;
  for (let i = 0; i < values.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[i] = (state / 2147483648) * 2 - 1;
  }
  const input = tf.tensor4d(values, [1, size, size, 3]);
  const once = async () => {
    const output = net.predict(input);
    await output.data();
    output.dispose();
  };
  const warmupStarted = performance.now();
  for (let i = 0; i < warmup && (i < 1 || performance.now() - warmupStarted < budgetMs / 4); i++) await once();
  const times = [];
  let spent = 0;
  for (let i = 0; i < runs && (i < 3 || spent < budgetMs); i++) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
    spent += times[times.length - 1];
  }
  input.dispose();
  net.dispose();
  times.sort((a, b) => a - b);
  let renderer = null;
  if (tf.getBackend() === "webgl") {
    const gl = document.createElement("canvas").getContext("webgl2") || document.createElement("canvas").getContext("webgl");
    const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
    renderer = gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : null;
  }
  return { backend: tf.getBackend(), runs: times.length, medianMs: times[Math.floor(times.length / 2)], bestMs: times[0], renderer, wasmThreads: tf.getBackend() === "wasm" ? tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? "threads allowed" : "1 thread" : null };
}`;

const browser = await chromium.launch({
  executablePath: values.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run"],
});
const result = { chromium: browser.version() };
try {
  for (const backend of ["wasm", "webgl"]) {
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.route("**/*", (route) => (/^(file|data|blob):/.test(route.request().url()) ? route.continue() : route.abort()));
    try {
      await page.goto(`${pathToFileURL(path.resolve(values.site, "index.html")).href}?backend=${backend}`);
      await page.waitForFunction("document.body.dataset.ready !== undefined", undefined, { timeout: 120_000 });
      const measured = await page.evaluate(`(${TIME_IN_PAGE})(${JSON.stringify({ runs, warmup, budgetMs })})`);
      result[backend] = measured.backend === backend ? measured : { error: `the page runs ${measured.backend}, not ${backend}` };
    } catch (error) {
      result[backend] = { error: `${String(error.message ?? error).split("\n")[0]}${errors.length > 0 ? ` (page: ${errors.join("; ")})` : ""}` };
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
