/**
 * `--format web`: a static site that segments the sclera in the browser. Written into a
 * folder that already holds the TF.js LayersModel under `model/` (model.json,
 * weights.bin, mu-model.json); this adds
 *
 *   index.html, app.js, resize.js, style.css
 *                                   the page (templates in ./site, copied as they are)
 *   model.js                        the same model as a script: topology, weight specs,
 *                                   base64 weights and the metadata in `window.MU_MODEL`,
 *                                   because a page opened from disk (file://) cannot
 *                                   fetch() model.json in Chromium
 *   tf.min.js, tf-backend-wasm.min.js, tfjs-backend-wasm*.wasm
 *                                   TF.js and its WASM backend from node_modules
 *   wasm-binaries.js                the .wasm files as base64 in `window.MU_WASM_BINARIES`,
 *                                   loaded only on file://, where the WASM backend
 *                                   cannot fetch the .wasm files either
 *   README.txt                      how to open and host it
 *
 * Nothing is fetched from the network when the page runs.
 */
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { ModelMetadata } from "../../model/model-folder.js";
import { MODEL_JSON, WEIGHTS_BIN } from "../../model/model-files.js";
import { FALLBACK_THRESHOLD } from "../../predict/predict-params.js";

/** The folder inside the site that holds the TF.js LayersModel files. */
export const WEB_MODEL_DIR = "model";

export const SITE_TEMPLATES = ["index.html", "app.js", "resize.js", "style.css"] as const;

/** TF.js files copied from node_modules, by the name they get in the site. */
const TFJS_FILES = {
  "tf.min.js": "@tensorflow/tfjs/dist/tf.min.js",
  "tf-backend-wasm.min.js": "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
  "tfjs-backend-wasm.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm": "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
} as const;

/** The binaries wasm-binaries.js embeds (the page switches WASM threads off, so not the threaded one). */
const EMBEDDED_WASM = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"] as const;

/** What model.js gives the page. */
export interface WebModel {
  readonly metadata: ModelMetadata & { readonly threshold: number; readonly thresholdSource: "model" | "fallback" };
  readonly modelTopology: unknown;
  readonly weightSpecs: readonly unknown[];
  /** All weight files of model.json's manifest, concatenated, base64. */
  readonly weightData: string;
}

/** The site templates: beside this module in the sources, and in the package (dist/ mirrors the sources). */
export function siteTemplateDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const fromSource = path.join(here, "site");
  const fromDist = path.resolve(here, "..", "..", "..", "..", "stages", "export", "web", "site");
  return path.basename(path.resolve(here, "..", "..", "..")) === "dist" ? fromDist : fromSource;
}

/** Adds the page, TF.js and model.js to `dir`, whose `model/` holds the model. Returns the files written. */
export async function writeWebSite(dir: string, metadata: ModelMetadata): Promise<string[]> {
  const templates = siteTemplateDir();
  for (const name of SITE_TEMPLATES) await copyFile(path.join(templates, name), path.join(dir, name));
  const require = createRequire(import.meta.url);
  for (const [name, specifier] of Object.entries(TFJS_FILES)) await copyFile(require.resolve(specifier), path.join(dir, name));
  const binaries: Record<string, string> = {};
  for (const name of EMBEDDED_WASM) binaries[name] = (await readFile(path.join(dir, name))).toString("base64");
  await writeFile(path.join(dir, "wasm-binaries.js"), `window.MU_WASM_BINARIES = ${JSON.stringify(binaries)};\n`);
  const model = await webModel(path.join(dir, WEB_MODEL_DIR), metadata);
  await writeFile(path.join(dir, "model.js"), `window.MU_MODEL = ${JSON.stringify(model)};\n`);
  await writeFile(path.join(dir, "README.txt"), webReadme(model.metadata));
  return [...SITE_TEMPLATES, ...Object.keys(TFJS_FILES), "wasm-binaries.js", "model.js", "README.txt", WEB_MODEL_DIR];
}

interface ModelJson {
  readonly modelTopology: unknown;
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly unknown[] }[];
}

/** The model folder's model.json and weights as one object for model.js. */
async function webModel(modelDir: string, metadata: ModelMetadata): Promise<WebModel> {
  const json = JSON.parse(await readFile(path.join(modelDir, MODEL_JSON), "utf8")) as ModelJson;
  const files = json.weightsManifest.flatMap((group) => group.paths);
  const weights = Buffer.concat(await Promise.all((files.length > 0 ? files : [WEIGHTS_BIN]).map((file) => readFile(path.join(modelDir, file)))));
  return {
    metadata: { ...metadata, threshold: metadata.threshold ?? FALLBACK_THRESHOLD, thresholdSource: metadata.threshold === null ? "fallback" : "model" },
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.toString("base64"),
  };
}

function webReadme(metadata: WebModel["metadata"]): string {
  const threshold =
    metadata.thresholdSource === "model" ? `${metadata.threshold} (the run's swept threshold)` : `${metadata.threshold} (the model has no swept threshold; the fallback mu-pipe predict uses)`;
  return `Sclera finder: a MU-Net sclera-segmentation model that runs in the browser.

Open index.html from disk (file://) or put this folder on any static host. Nothing is
downloaded when the page runs; photos never leave the device.

- Photos: drop or choose eye photos; each shows the sclera overlaid and a mask to
  download (PNG, white sclera on black, at the photo's own size).
- Camera: segments the (front) camera's frames continuously and shows ms per frame.
  Browsers allow the camera on https:// and http://localhost pages, and on file://.
- Backend: WebGL, else WebAssembly; index.html?backend=wasm (or webgl) picks one.

As mu-pipe predict: photos are stretched to ${metadata.inputSize}x${metadata.inputSize}, scaled "${metadata.inputScaling}",
the probability map is resized back bilinearly and cut at threshold ${threshold}.${metadata.tta === "flip" ? "\nEach map is the mean of the photo's map and the mirrored map of the mirrored photo\n(flip test-time augmentation, as the threshold was chosen)." : ""}
resize.js stretches photos as sharp's lanczos3 does (byte for byte when shrinking;
photos smaller than the model input are enlarged with a close cubic), so the masks
match mu-pipe predict's.

Files: model/ is the TF.js LayersModel (model.json, weights.bin, mu-model.json);
model.js holds the same model for the page (file:// pages cannot fetch model.json);
wasm-binaries.js holds the .wasm files for the same reason.
`;
}
