/**
 * Which weights file a fine-tune's fingerprint holds for `encoder.weights: imagenet`:
 * the one a run would read, keyed by its Keras name wherever it was found, or the
 * official digest when the run would download it.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { OFFICIAL_SHA256 } from "../../stages/model/imagenet-weights-location.js";
import { encoderWeightsInputs } from "../../stages/train/encoder-weights-input.js";

const NAME_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5";
const KEY_035 = `imagenet-weights:${NAME_035}`;

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "mu-weights-input-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function file(rel: string): Promise<string> {
  const abs = path.join(home, rel);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(abs, "weights");
  return abs;
}

describe("encoderWeightsInputs", () => {
  it("for imagenet, declares the file $MU_PIPE_WEIGHTS names (a file or its folder) before the Keras cache", async () => {
    const cached = await file(`.keras/models/${NAME_035}`);
    const named = await file("mine/w.h5");
    const inFolder = await file(`folder/${NAME_035}`);
    const at = (env: NodeJS.ProcessEnv): unknown => encoderWeightsInputs("imagenet", 0.35, "/exp", env, home)[0];
    expect(at({ MU_PIPE_WEIGHTS: named })).toMatchObject({ path: named, key: KEY_035 });
    expect(at({ MU_PIPE_WEIGHTS: path.dirname(inFolder) })).toMatchObject({ path: inFolder, key: KEY_035 });
    expect(at({ MU_PIPE_WEIGHTS: path.join(home, "missing.h5") })).toMatchObject({ path: cached, key: KEY_035 });
    expect(at({})).toMatchObject({ path: cached, key: KEY_035 });
    expect(at({ KERAS_HOME: path.join(home, "elsewhere") })).not.toMatchObject({ path: cached });
  });

  it("uses the official sha256 for a file the run would download, so the key is the official file's", () => {
    const [input] = encoderWeightsInputs("imagenet", 0.35, "/exp", {}, home);
    expect(input).toMatchObject({ key: KEY_035, path: path.join(home, ".keras/models", NAME_035), digestIfAbsent: `sha256:${OFFICIAL_SHA256[NAME_035] ?? ""}` });
  });

  it("declares nothing when the run could not get weights at all, so the run names every place it looked", () => {
    expect(encoderWeightsInputs("imagenet", 1.0, "/exp", {}, home)).toEqual([]);
  });

  it("declares a given path as itself, and nothing for none", () => {
    expect(encoderWeightsInputs("weights/enc.h5", 0.35, "/exp", {}, home)).toEqual([{ path: "/exp/weights/enc.h5", about: "encoder.weights" }]);
    expect(encoderWeightsInputs("none", 0.35, "/exp", {}, home)).toEqual([]);
  });
});
