import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { applyKerasWeights } from "../../stages/model/apply-weights.js";
import { scaleImages } from "../../stages/model/input-scaling.js";
import { readKerasWeights } from "../../stages/model/keras-h5.js";
import { buildMuNet, encoderLayerNames } from "../../stages/model/mu-net.js";

// The "faithful build" check: Keras's ImageNet MobileNetV2 weights, applied to our encoder,
// reproduce Keras's own activations for two images within 1e-4.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shared = path.resolve(repoRoot, "../shared");
const weightsFile = path.join(shared, "weights/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5");
const fixtureDir = path.join(shared, "fixtures/mobilenetv2-activations");
const available = existsSync(weightsFile) && existsSync(path.join(fixtureDir, "fixture.json"));
const skip = skipUnlessAvailable("../shared's ImageNet weights and Keras activation fixtures", available ? null : `${weightsFile} or ${fixtureDir} is absent`);

interface LayerFixture {
  shape: number[];
  mean: number;
  std: number;
  max: number;
  samples: { flat_index_nhwc: number[]; value: number[] };
  full_f32le?: string;
}
interface Fixture {
  inputs: string[];
  layers: Record<string, LayerFixture>;
}

const TOLERANCE = 1e-4;

describe.skipIf(skip)("ImageNet weights on buildMuNet's encoder match Keras", () => {
  let fixture: Fixture;
  const outputs = new Map<string, Float32Array>();

  beforeAll(async () => {
    await tf.setBackend("cpu");
    fixture = JSON.parse(readFileSync(path.join(fixtureDir, "fixture.json"), "utf8")) as Fixture;
    const model = buildMuNet({ alpha: 0.35, inputSize: 224 });
    const encoder = new Set(encoderLayerNames(model));
    const { loaded } = applyKerasWeights(model, await readKerasWeights(weightsFile), { layers: (name) => encoder.has(name) });
    // Conv1 + bn_Conv1, 4 in block 0, 6 in each of blocks 1-12, block_13_expand + its BN.
    expect(loaded).toHaveLength(80);

    const layerNames = Object.keys(fixture.layers);
    const probe = tf.model({ inputs: model.inputs, outputs: layerNames.map((name) => model.getLayer(name).output as tf.SymbolicTensor) });
    const pixels = await Promise.all(
      fixture.inputs.map(async (name) => {
        const { data, info } = await sharp(path.join(fixtureDir, name)).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height, info.channels]).toEqual([224, 224, 3]);
        return data;
      }),
    );
    const before = tf.memory().numTensors;
    const results = tf.tidy(() => {
      const batch = tf.tensor4d(Buffer.concat(pixels), [pixels.length, 224, 224, 3], "int32");
      return probe.predict(scaleImages(batch, "imagenet")) as tf.Tensor[];
    });
    for (const [i, name] of layerNames.entries()) {
      const tensor = results[i] as tf.Tensor;
      expect(tensor.shape).toEqual(fixture.layers[name]?.shape);
      outputs.set(name, tensor.dataSync() as Float32Array);
    }
    tf.dispose(results);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  }, 120_000);

  it("matches the sampled values at every skip layer and block_13_expand_relu", () => {
    const errors: string[] = [];
    for (const [name, layer] of Object.entries(fixture.layers)) {
      const values = outputs.get(name) as Float32Array;
      let maxError = 0;
      layer.samples.flat_index_nhwc.forEach((index, i) => {
        maxError = Math.max(maxError, Math.abs((values[index] as number) - (layer.samples.value[i] as number)));
      });
      errors.push(`${name}: max abs error ${maxError.toExponential(2)} over ${layer.samples.value.length} samples`);
      expect(maxError, name).toBeLessThan(TOLERANCE);
      expect(Math.abs(mean(values) - layer.mean), `${name} mean`).toBeLessThan(TOLERANCE);
    }
    console.log(errors.join("\n"));
  });

  it("matches the whole block_13_expand_relu tensor", () => {
    const layer = fixture.layers.block_13_expand_relu as LayerFixture;
    const bytes = readFileSync(path.join(fixtureDir, layer.full_f32le as string));
    const expected = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const actual = outputs.get("block_13_expand_relu") as Float32Array;
    expect(actual.length).toBe(expected.length);
    let maxError = 0;
    for (let i = 0; i < expected.length; i++) maxError = Math.max(maxError, Math.abs((actual[i] as number) - (expected[i] as number)));
    console.log(`block_13_expand_relu (whole tensor, ${expected.length} values): max abs error ${maxError.toExponential(2)}`);
    expect(maxError).toBeLessThan(TOLERANCE);
  });
});

function mean(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
