/**
 * `mu-pipe export --format web` without a browser: what the folder holds, that model.js
 * carries the same model (its predictions equal the model folder's), that nothing in it
 * points at the network, and how an existing --out is treated. The page itself is tested
 * in Chromium by web-app.test.ts.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { WebModel } from "../../stages/export/web/web-site.js";
import { captureIO, predict, saveTinyModel, tinyBatch, tinyMetadata } from "./tiny-model.js";

let work: string;
let expected: Float32Array;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-export-web-"));
  const model = await saveTinyModel(path.join(work, "model"));
  const x = tinyBatch();
  expected = predict(model, x);
  x.dispose();
  model.dispose();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function exportWeb(out: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO(work);
  const code = await main(["export", "model", "--format", "web", "--out", out, ...extra], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** What a script file sets on `window` when a page runs it (as plain data of this realm). */
function scriptGlobal<T>(source: string, name: string): T {
  const window: Record<string, unknown> = {};
  vm.runInNewContext(source, { window });
  return JSON.parse(JSON.stringify(window[name])) as T;
}

describe("export --format web", () => {
  it("writes the page, TF.js with its WASM files and the model, and says how to open it", async () => {
    const result = await exportWeb("site");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      "exported model folder model as a web app: site\n  open site/index.html in a browser, or put the folder on any static host (README.txt says more)\n",
    );
    const site = path.join(work, "site");
    expect((await readdir(site)).sort()).toEqual([
      "README.txt",
      "app.js",
      "index.html",
      "model",
      "model.js",
      "resize.js",
      "style.css",
      "tf-backend-wasm.min.js",
      "tf.min.js",
      "tfjs-backend-wasm-simd.wasm",
      "tfjs-backend-wasm.wasm",
      "wasm-binaries.js",
    ]);
    expect((await readdir(path.join(site, "model"))).sort()).toEqual(["model.json", "mu-model.json", "weights.bin"]);
    expect((await readdir(work)).sort()).toEqual(["model", "site"]); // no temporary left behind
  });

  it("puts the same model in model.js: its predictions equal the model folder's, with the metadata and threshold", async () => {
    const site = path.join(work, "site");
    const web = scriptGlobal<WebModel>(await readFile(path.join(site, "model.js"), "utf8"), "MU_MODEL");
    expect(web.metadata).toEqual({ ...tinyMetadata, thresholdSource: "model" });
    const bytes = Buffer.from(web.weightData, "base64");
    const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: web.modelTopology as object, weightSpecs: web.weightSpecs as tf.io.WeightsManifestEntry[], weightData }));
    const x = tinyBatch();
    expect(predict(model, x)).toEqual(expected);
    x.dispose();
    model.dispose();
  });

  it("embeds the WASM binaries byte for byte in wasm-binaries.js, for pages opened from disk", async () => {
    const site = path.join(work, "site");
    const binaries = scriptGlobal<Record<string, string>>(await readFile(path.join(site, "wasm-binaries.js"), "utf8"), "MU_WASM_BINARIES");
    expect(Object.keys(binaries).sort()).toEqual(["tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm.wasm"]);
    for (const [name, base64] of Object.entries(binaries)) expect(Buffer.from(base64, "base64").equals(await readFile(path.join(site, name)))).toBe(true);
  });

  it("loads nothing from the network: the page names only files beside it", async () => {
    const site = path.join(work, "site");
    const html = await readFile(path.join(site, "index.html"), "utf8");
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1" />');
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(["style.css", "tf.min.js", "tf-backend-wasm.min.js", "resize.js", "model.js", "app.js"]);
    for (const file of ["index.html", "app.js", "resize.js", "style.css"]) expect(await readFile(path.join(site, file), "utf8")).not.toMatch(/https?:\/\//);
    for (const source of sources) expect((await stat(path.join(site, source ?? ""))).isFile()).toBe(true);
  });

  it("uses predict's fallback threshold 0.5 for a model without a swept one, and says so in README.txt", async () => {
    await saveTinyModel(path.join(work, "unswept"), { ...tinyMetadata, threshold: null }).then((m) => m.dispose());
    const io = captureIO(work);
    expect(await main(["export", "unswept", "--format", "web", "--out", "unswept-site"], io), io.stderr()).toBe(0);
    const web = scriptGlobal<WebModel>(await readFile(path.join(work, "unswept-site", "model.js"), "utf8"), "MU_MODEL");
    expect([web.metadata.threshold, web.metadata.thresholdSource]).toEqual([0.5, "fallback"]);
    expect(await readFile(path.join(work, "unswept-site", "README.txt"), "utf8")).toContain("0.5 (the model has no swept threshold; the fallback mu-pipe predict uses)");
  });

  it("replaces an earlier web export only with --force, and never a folder that is not one", async () => {
    const again = await exportWeb("site");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${path.join(work, "site")} already exists; pass --force to replace it`);
    expect((await exportWeb("site", "--force")).code).toBe(0);

    await mkdir(path.join(work, "photos"));
    await writeFile(path.join(work, "photos", "eye.jpg"), "not really");
    const other = await exportWeb("photos", "--force");
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("is a folder that holds files but no model/mu-model.json, so not an earlier export; not replacing it, even with --force");
    expect(await readdir(path.join(work, "photos"))).toEqual(["eye.jpg"]);
  });
});
