/**
 * Opening report pages in headless Chromium (Debian's `chromium`, driven by
 * playwright-core) for browser tests: console errors, page errors and any network
 * request are recorded, charts are read back through Chart.js, and a full-page
 * screenshot is kept under test-artifacts/screenshots/.
 */
import { accessSync, constants } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { chromium, type Browser, type Page } from "playwright-core";

import { repoRoot } from "../pipeline/engine-rig.js";

export const SCREENSHOTS = path.join(repoRoot, "test-artifacts", "screenshots");

export const NO_CHROMIUM = "no Chromium found: `apt-get install chromium` (Debian), or set CHROMIUM_PATH to a Chromium or Chrome binary";

/** $CHROMIUM_PATH, else `chromium` or `chromium-browser` on PATH; null when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CHROMIUM_PATH) return isExecutable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    for (const name of ["chromium", "chromium-browser"]) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  // We run as root in CI, where Chromium's sandbox cannot start.
  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
}

export interface OpenedPage {
  readonly page: Page;
  /** Console errors and uncaught page errors, in order. */
  readonly errors: string[];
  /** Every request the page tried that was not for the file itself or a data: URI (all were refused). */
  readonly network: string[];
}

/**
 * Collects the page's console errors and uncaught exceptions, and refuses (and lists)
 * every request `isLocal` does not allow: a page that must work offline.
 */
export async function guardPage(page: Page, isLocal: (url: string) => boolean): Promise<{ errors: string[]; network: string[] }> {
  const errors: string[] = [];
  const network: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page: ${error.message}`));
  await page.route("**/*", async (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    network.push(url);
    return route.abort();
  });
  return { errors, network };
}

/** Opens `file` with every network request refused, and waits until every chart is drawn. */
export async function openReport(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const { errors, network } = await guardPage(page, (url) => url.startsWith("file:") || url.startsWith("data:"));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction("Array.from(document.querySelectorAll('canvas[data-chart]')).every((c) => window.Chart && window.Chart.getChart(c))", undefined, { timeout: 15_000 });
  return { page, errors, network };
}

export interface DrawnChart {
  readonly key: string;
  readonly datasets: readonly { readonly label: string; readonly type: string | null; readonly points: readonly [number, number | null][] }[];
}

/**
 * What Chart.js holds for each canvas. The page functions are strings: the test files
 * are transformed before they run, and a serialised function could carry helpers the
 * page does not have.
 */
export async function drawnCharts(page: Page): Promise<Map<string, DrawnChart>> {
  const charts = (await page.evaluate(`Array.from(document.querySelectorAll("canvas[data-chart]")).map((canvas) => ({
    key: canvas.getAttribute("data-chart"),
    datasets: window.Chart.getChart(canvas).data.datasets.map((d) => ({ label: d.label, type: d.type || null, points: d.data.map((p) => [p.x, p.y]) })),
  }))`)) as DrawnChart[];
  return new Map(charts.map((chart) => [chart.key, chart]));
}

export async function decodedImages(page: Page): Promise<{ alt: string; naturalWidth: number }[]> {
  return (await page.evaluate(`Array.from(document.images).map((img) => ({ alt: img.alt, naturalWidth: img.complete ? img.naturalWidth : 0 }))`)) as {
    alt: string;
    naturalWidth: number;
  }[];
}

/** A full-page screenshot at test-artifacts/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
