import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { ImagenetWeightsError, kerasWeightsFileName, resolveImagenetWeights, type ResolveImagenetWeightsOptions } from "../../stages/model/imagenet-weights.js";
import { writeKerasWeights } from "../../stages/model/keras-h5.js";

const NAME_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5";
const NAME_10 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5";
const sharedFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../shared/weights", NAME_035);
const URL_035 = `https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/${NAME_035}`;

/**
 * A small file with the structure the resolver checks: MobileNetV2's layer names, and
 * block_13_expand [1, 1, c, 6c] with c = 32 at alpha 0.35, 96 at alpha 1.0.
 */
async function fakeMobileNetFile(file: string, block13In: number): Promise<Buffer> {
  const input = tf.input({ name: "input_layer", shape: [4, 4, 3] });
  const names: [string, number][] = [
    ["Conv1", 16],
    ["block_1_expand", 48],
    ["block_12_project", block13In],
    ["block_13_expand", 6 * block13In],
  ];
  let x: tf.SymbolicTensor = input;
  for (const [name, filters] of names) {
    x = tf.layers.conv2d({ name, filters, kernelSize: 1, useBias: false }).apply(x) as tf.SymbolicTensor;
    if (name === "Conv1") {
      x = tf.layers.batchNormalization({ name: "bn_Conv1" }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.depthwiseConv2d({ name: "expanded_conv_depthwise", kernelSize: 3, padding: "same", useBias: false }).apply(x) as tf.SymbolicTensor;
    }
  }
  x = tf.layers.batchNormalization({ name: "block_13_expand_BN" }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x });
  await mkdir(path.dirname(file), { recursive: true });
  await writeKerasWeights(file, model);
  model.dispose();
  return readFile(file);
}

let valid035: Buffer;
let valid10: Buffer;
let work: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  work = await mkdtemp(path.join(os.tmpdir(), "mu-imagenet-"));
  valid035 = await fakeMobileNetFile(path.join(work, "fixtures", NAME_035), 32);
  valid10 = await fakeMobileNetFile(path.join(work, "fixtures", NAME_10), 96);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});


async function home(): Promise<string> {
  return mkdtemp(path.join(work, "home-"));
}

function options(homeDir: string, extra: Partial<ResolveImagenetWeightsOptions> = {}): ResolveImagenetWeightsOptions {
  return {
    env: {},
    homeDir,
    allowDownload: false,
    fetchImpl: () => Promise.reject(new Error("unexpected download")),
    ...extra,
  };
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

describe("kerasWeightsFileName", () => {
  it("spells alpha as Keras does", () => {
    expect(kerasWeightsFileName(0.35)).toBe(NAME_035);
    expect(kerasWeightsFileName(1.0)).toBe(NAME_10);
    expect(kerasWeightsFileName(0.5, 192)).toBe("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_192_no_top.h5");
  });
});

describe("resolveImagenetWeights", () => {
  it("uses an explicit path, checked for structure only", async () => {
    const file = path.join(work, "fixtures", NAME_035);
    expect(await resolveImagenetWeights(0.35, options(await home(), { explicitPath: file, env: { MU_PIPE_WEIGHTS: "/nowhere" } }))).toEqual({ path: file, source: "path" });
  });

  it.skipIf(skipUnlessAvailable("../shared/weights' 0.35 ImageNet file", existsSync(sharedFile) ? null : `${sharedFile} is absent`))("accepts the shared re-saved 0.35 file (not byte-identical to the official one) by path", async () => {
    expect(await resolveImagenetWeights(0.35, options(await home(), { explicitPath: sharedFile }))).toEqual({ path: sharedFile, source: "path" });
  });

  it("refuses an explicit path for another alpha, naming both", async () => {
    const file = path.join(work, "fixtures", NAME_10);
    await expect(resolveImagenetWeights(0.35, options(await home(), { explicitPath: file }))).rejects.toThrow(
      `encoder weights ${file}: block_13_expand kernel is [1,1,96,576], alpha 0.35 needs [1,1,32,192] (the file is for alpha 1.0)`,
    );
  });

  it("refuses an explicit path that is not HDF5", async () => {
    const file = path.join(work, "garbage.h5");
    await writeFile(file, "not hdf5");
    await expect(resolveImagenetWeights(0.35, options(await home(), { explicitPath: file }))).rejects.toThrow(
      `encoder weights ${file}: not an HDF5 file (no HDF5 signature)`,
    );
  });

  it("takes MU_PIPE_WEIGHTS as a file or as a folder holding the Keras file name", async () => {
    const folder = path.join(work, "fixtures");
    const homeDir = await home();
    expect(await resolveImagenetWeights(1.0, options(homeDir, { env: { MU_PIPE_WEIGHTS: folder } }))).toEqual({ path: path.join(folder, NAME_10), source: "env" });
    const file = path.join(folder, NAME_035);
    expect(await resolveImagenetWeights(0.35, options(homeDir, { env: { MU_PIPE_WEIGHTS: file } }))).toEqual({ path: file, source: "env" });
  });

  it("stops at a MU_PIPE_WEIGHTS file for another alpha rather than looking elsewhere", async () => {
    const file = path.join(work, "fixtures", NAME_10);
    await expect(resolveImagenetWeights(0.35, options(await home(), { env: { MU_PIPE_WEIGHTS: file } }))).rejects.toThrow(
      `MU_PIPE_WEIGHTS=${file}: ${file}: block_13_expand kernel is [1,1,96,576], alpha 0.35 needs [1,1,32,192] (the file is for alpha 1.0)`,
    );
  });

  it("finds the file in the Keras cache (~/.keras/models, or $KERAS_HOME/models)", async () => {
    const homeDir = await home();
    const cached = path.join(homeDir, ".keras", "models", NAME_035);
    await mkdir(path.dirname(cached), { recursive: true });
    await writeFile(cached, valid035);
    // A MU_PIPE_WEIGHTS folder without the file falls through to the cache.
    expect(await resolveImagenetWeights(0.35, options(homeDir, { env: { MU_PIPE_WEIGHTS: work } }))).toEqual({ path: cached, source: "keras-cache" });

    const kerasHome = path.join(await home(), "kh");
    await mkdir(path.join(kerasHome, "models"), { recursive: true });
    await writeFile(path.join(kerasHome, "models", NAME_10), valid10);
    expect(await resolveImagenetWeights(1.0, options(homeDir, { env: { KERAS_HOME: kerasHome } }))).toEqual({ path: path.join(kerasHome, "models", NAME_10), source: "keras-cache" });
  });

  it("downloads into the Keras cache when the checksum matches, leaving no temporary file", async () => {
    const homeDir = await home();
    const requested: string[] = [];
    const messages: string[] = [];
    const fetchImpl = (async (url: string | URL | Request) => {
      requested.push(String(url));
      return new Response(new Uint8Array(valid035));
    }) as typeof fetch;
    const result = await resolveImagenetWeights(0.35, options(homeDir, { allowDownload: true, fetchImpl, log: (m) => messages.push(m), checksums: { [NAME_035]: sha256(valid035) } }));
    const cacheDir = path.join(homeDir, ".keras", "models");
    expect(result).toEqual({ path: path.join(cacheDir, NAME_035), source: "download" });
    expect(requested).toEqual([URL_035]);
    expect(await readdir(cacheDir)).toEqual([NAME_035]);
    expect(sha256(await readFile(result.path))).toBe(sha256(valid035));
    expect(messages[0]).toBe(`downloading ${URL_035}`);
    // The next call finds it in the cache without downloading.
    expect(await resolveImagenetWeights(0.35, options(homeDir))).toEqual({ path: result.path, source: "keras-cache" });
  });

  it("rejects a download whose sha256 is not the official one and leaves nothing in the cache", async () => {
    const homeDir = await home();
    const fetchImpl = (async () => new Response(new Uint8Array(valid035))) as typeof fetch;
    const error = await resolveImagenetWeights(0.35, options(homeDir, { allowDownload: true, fetchImpl })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagenetWeightsError);
    expect((error as Error).message).toContain(
      `${URL_035}: downloaded file has sha256 ${sha256(valid035)}, expected df1c3db1d0d9193719c4c70f707c56f7021f999f825bdc57454c275cf6def19f; not saved`,
    );
    const cacheDir = path.join(homeDir, ".keras", "models");
    expect(existsSync(cacheDir) ? await readdir(cacheDir) : []).toEqual([]);
  });

  it("lists every place tried when nothing works, with the network error and where to put the file", async () => {
    const homeDir = await home();
    const fetchImpl = (async () => {
      throw new TypeError("fetch failed", { cause: new Error("getaddrinfo ENOTFOUND storage.googleapis.com") });
    }) as typeof fetch;
    const cacheDir = path.join(homeDir, ".keras", "models");
    await expect(resolveImagenetWeights(0.35, options(homeDir, { env: { MU_PIPE_WEIGHTS: path.join(work, "missing.h5") }, allowDownload: true, fetchImpl }))).rejects.toThrow(
      [
        "no ImageNet MobileNetV2 weights (alpha 0.35) found; tried:",
        `  - ${path.join(work, "missing.h5")} ($MU_PIPE_WEIGHTS): no such file`,
        `  - ${path.join(cacheDir, NAME_035)} (Keras cache): no such file`,
        `  - ${URL_035}: download failed: fetch failed (getaddrinfo ENOTFOUND storage.googleapis.com)`,
        `put ${NAME_035} in ${cacheDir}/ or set MU_PIPE_WEIGHTS to the file (or its folder), or give encoder.weights: <path>`,
      ].join("\n"),
    );
  });

  it("reports an HTTP error status", async () => {
    const fetchImpl = (async () => new Response("gone", { status: 404, statusText: "Not Found" })) as typeof fetch;
    await expect(resolveImagenetWeights(0.35, options(await home(), { allowDownload: true, fetchImpl }))).rejects.toThrow(`${URL_035}: download failed: HTTP 404 Not Found`);
  });

  it("does not download without permission, nor widths with no known checksum", async () => {
    const homeDir = await home();
    await expect(resolveImagenetWeights(0.35, options(homeDir))).rejects.toThrow(`${URL_035}: downloads are switched off`);
    await expect(resolveImagenetWeights(0.5, options(homeDir, { allowDownload: true }))).rejects.toThrow(
      "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224_no_top.h5: no known checksum for mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224_no_top.h5, so it is not downloaded",
    );
  });

  it("replaces a broken cached file by a download", async () => {
    const homeDir = await home();
    const cached = path.join(homeDir, ".keras", "models", NAME_035);
    await mkdir(path.dirname(cached), { recursive: true });
    await writeFile(cached, "partial");
    const fetchImpl = (async () => new Response(new Uint8Array(valid035))) as typeof fetch;
    const result = await resolveImagenetWeights(0.35, options(homeDir, { allowDownload: true, fetchImpl, checksums: { [NAME_035]: sha256(valid035) } }));
    expect(result).toEqual({ path: cached, source: "download" });
    expect(sha256(await readFile(cached))).toBe(sha256(valid035));
  });
});
