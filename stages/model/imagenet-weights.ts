/**
 * Finds the ImageNet MobileNetV2 "no_top" weights Keras publishes, in this order: a path the
 * user gives, `$MU_PIPE_WEIGHTS`, the Keras cache (`~/.keras/models/`), then a download from
 * the Keras applications bucket, checked against the official sha256 and renamed into the
 * Keras cache. Files the user supplies are checked for structure (a Keras HDF5 file with the
 * MobileNetV2 layers of the right width), never for a checksum: re-saved copies are fine.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { readKerasWeights, type KerasWeights } from "./keras-h5.js";
import { makeDivisible, type Alpha } from "./mobilenet-v2.js";
import { alphaText, envWeightsCandidate, kerasCacheDir, kerasWeightsFileName, OFFICIAL_SHA256, WEIGHTS_ENV_VAR } from "./imagenet-weights-location.js";

/** The Keras applications bucket folder the MobileNetV2 weights are downloaded from. */
export const KERAS_MOBILENET_V2_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/";

export { kerasCacheDir, kerasWeightsFileName, OFFICIAL_SHA256, WEIGHTS_ENV_VAR } from "./imagenet-weights-location.js";

export type WeightsSource = "path" | "env" | "keras-cache" | "download";

export interface ResolveImagenetWeightsOptions {
  /** A file the user named (e.g. `encoder.weights` in the config); used alone when given. */
  explicitPath?: string;
  env: NodeJS.ProcessEnv;
  homeDir: string;
  allowDownload: boolean;
  fetchImpl?: typeof fetch;
  log?: (message: string) => void;
  signal?: AbortSignal;
  /** sha256 per file name that a download must have; default `OFFICIAL_SHA256`. */
  checksums?: Readonly<Partial<Record<string, string>>>;
}

export interface ResolvedWeights {
  path: string;
  source: WeightsSource;
}

/** No usable weights file; `tried` lists each place looked at and why it did not serve. */
export class ImagenetWeightsError extends Error {
  constructor(
    message: string,
    readonly tried: readonly string[],
  ) {
    super(message);
    this.name = "ImagenetWeightsError";
  }
}

/** Finds (or downloads) the ImageNet weights for `alpha`. */
export async function resolveImagenetWeights(alpha: Alpha, options: ResolveImagenetWeightsOptions): Promise<ResolvedWeights> {
  const fileName = kerasWeightsFileName(alpha);
  const log = options.log ?? ((): void => undefined);

  if (options.explicitPath !== undefined) {
    const problem = await structureProblem(options.explicitPath, alpha);
    if (problem !== undefined) {
      throw new ImagenetWeightsError(`encoder weights ${options.explicitPath}: ${problem}`, [`${options.explicitPath} (given path): ${problem}`]);
    }
    return { path: options.explicitPath, source: "path" };
  }

  const tried: string[] = [];
  const envValue = options.env[WEIGHTS_ENV_VAR];
  if (envValue !== undefined && envValue !== "") {
    const candidate = envWeightsCandidate(envValue, fileName);
    const problem = await structureProblem(candidate, alpha);
    if (problem === undefined) return { path: candidate, source: "env" };
    // A file the user pointed at that is broken or for another width is an error, not a miss.
    if (existsSync(candidate)) throw new ImagenetWeightsError(`${WEIGHTS_ENV_VAR}=${envValue}: ${candidate}: ${problem}`, [`${candidate} ($${WEIGHTS_ENV_VAR}): ${problem}`]);
    tried.push(`${candidate} ($${WEIGHTS_ENV_VAR}): ${problem}`);
    log(`${WEIGHTS_ENV_VAR}: ${candidate}: ${problem}`);
  } else {
    tried.push(`$${WEIGHTS_ENV_VAR}: not set`);
  }

  const cacheDir = kerasCacheDir(options.env, options.homeDir);
  const cached = path.join(cacheDir, fileName);
  const cacheProblem = await structureProblem(cached, alpha);
  if (cacheProblem === undefined) return { path: cached, source: "keras-cache" };
  tried.push(`${cached} (Keras cache): ${cacheProblem}`);
  if (existsSync(cached)) log(`Keras cache: ${cached}: ${cacheProblem}`);

  const url = KERAS_MOBILENET_V2_BASE_URL + fileName;
  const sha256 = (options.checksums ?? OFFICIAL_SHA256)[fileName];
  if (!options.allowDownload) {
    tried.push(`${url}: downloads are switched off`);
  } else if (sha256 === undefined) {
    tried.push(`${url}: no known checksum for ${fileName}, so it is not downloaded`);
  } else {
    try {
      await download(url, cached, sha256, options.fetchImpl ?? fetch, log, options.signal);
      return { path: cached, source: "download" };
    } catch (error) {
      if (options.signal?.aborted === true) throw error;
      tried.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  throw new ImagenetWeightsError(
    [
      `no ImageNet MobileNetV2 weights (alpha ${alphaText(alpha)}) found; tried:`,
      ...tried.map((t) => `  - ${t}`),
      `put ${fileName} in ${cacheDir}${path.sep} or set ${WEIGHTS_ENV_VAR} to the file (or its folder), or give encoder.weights: <path>`,
    ].join("\n"),
    tried,
  );
}

/** Why `file` is not usable as the `alpha` ImageNet encoder weights, or undefined if it is. */
async function structureProblem(file: string, alpha: Alpha): Promise<string | undefined> {
  if (!existsSync(file)) return "no such file";
  if (!statSync(file).isFile()) return "not a file";
  let weights: KerasWeights;
  try {
    weights = await readKerasWeights(file);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
  }
  return mobileNetV2Problem(weights, alpha);
}

/**
 * Checks the layers MU-Net's encoder needs and the width of `block_13_expand`, whose kernel is
 * [1, 1, c, 6c] with c = makeDivisible(96 * alpha): 192 channels at 0.35, 576 at 1.0.
 */
export function mobileNetV2Problem(weights: KerasWeights, alpha: Alpha): string | undefined {
  const needed = ["Conv1", "bn_Conv1", "expanded_conv_depthwise", "block_1_expand", "block_13_expand", "block_13_expand_BN"];
  const missing = needed.filter((name) => (weights.get(name)?.length ?? 0) === 0);
  if (missing.length > 0) return `not MobileNetV2 weights: no weights for layer${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`;
  const kernel = weights.get("block_13_expand")?.[0];
  const inChannels = makeDivisible(96 * alpha);
  const expected = [1, 1, inChannels, 6 * inChannels];
  if (kernel === undefined || kernel.shape.join(",") !== expected.join(",")) {
    const found = kernel === undefined ? "none" : `[${kernel.shape.join(",")}]`;
    const other = kernel === undefined ? undefined : alphaForBlock13(kernel.shape[2]);
    return `block_13_expand kernel is ${found}, alpha ${alphaText(alpha)} needs [${expected.join(",")}]${other === undefined ? "" : ` (the file is for alpha ${alphaText(other)})`}`;
  }
  return undefined;
}

function alphaForBlock13(channels: number | undefined): number | undefined {
  return [0.35, 0.5, 0.75, 1.0, 1.3, 1.4].find((a) => makeDivisible(96 * a) === channels);
}

async function download(url: string, target: string, sha256: string, fetchImpl: typeof fetch, log: (m: string) => void, signal: AbortSignal | undefined): Promise<void> {
  log(`downloading ${url}`);
  let response: Response;
  try {
    response = await fetchImpl(url, signal === undefined ? {} : { signal });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
    throw new Error(`download failed: ${error instanceof Error ? error.message : String(error)}${cause}`);
  }
  if (!response.ok) throw new Error(`download failed: HTTP ${response.status}${response.statusText === "" ? "" : ` ${response.statusText}`}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== sha256) throw new Error(`downloaded file has sha256 ${digest}, expected ${sha256}; not saved`);

  await mkdir(path.dirname(target), { recursive: true });
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${randomBytes(4).toString("hex")}.part`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  log(`saved ${target} (${bytes.length} bytes, sha256 ok)`);
}
