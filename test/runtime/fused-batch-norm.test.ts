import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { initBackend } from "../../stages/runtime/backend.js";
import { fusedBatchNormInstalled, installFusedOps, uninstallFusedOps } from "../../stages/runtime/fused-ops/index.js";
import { nativeProblem, nativeStatus } from "../../stages/runtime/native-package.js";

const problem = nativeProblem(nativeStatus("tensorflow"));

/** Largest |a - b| / max(|b|, 1e-3 * max|b|): relative error with a floor for near-zero entries. */
function relError(a: tf.Tensor, b: tf.Tensor): number {
  const av = Array.from(a.dataSync() as Float32Array);
  const bv = Array.from(b.dataSync() as Float32Array);
  expect(a.shape).toEqual(b.shape);
  const scale = bv.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  for (let i = 0; i < bv.length; i++) {
    const ref = bv[i] as number;
    worst = Math.max(worst, Math.abs((av[i] as number) - ref) / Math.max(Math.abs(ref), 1e-3 * scale, 1e-12));
  }
  return worst;
}

interface StepResult {
  readonly y: tf.Tensor;
  readonly movingMean: tf.Tensor;
  readonly movingVariance: tf.Tensor;
  readonly dx: tf.Tensor;
  readonly dGamma: tf.Tensor;
  readonly dBeta: tf.Tensor;
}

/** Training-mode calls of a BN layer with fixed weights: output, moving stats after them, gradients of a weighted sum. */
function step(shape: [number, number, number, number], momentum: number, epsilon: number, seed: number): StepResult {
  const channels = shape[3];
  const layer = tf.layers.batchNormalization({ axis: -1, momentum, epsilon });
  layer.build(shape);
  const weights = [
    tf.randomUniform([channels], 0.5, 1.5, "float32", seed + 1),
    tf.randomNormal([channels], 0, 1, "float32", seed + 2),
    tf.randomNormal([channels], 0, 1, "float32", seed + 3),
    tf.randomUniform([channels], 0.5, 2, "float32", seed + 4),
  ];
  layer.setWeights(weights);
  const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal(shape, 0, 1, "float32", seed + 5), 3), 1.5));
  const w = tf.randomNormal(shape, 0, 1, "float32", seed + 6);
  const gamma = layer.weights[0]?.read() as tf.Variable;
  const beta = layer.weights[1]?.read() as tf.Variable;
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w)), [gamma, beta]);
  value.dispose();
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, w)))(x);
  const [, , movingMean, movingVariance] = layer.getWeights();
  // Three training calls (output, gradients w.r.t. the weights, then w.r.t. x): the moving stats moved twice on both paths.
  const result: StepResult = {
    y,
    movingMean: (movingMean as tf.Tensor).clone(),
    movingVariance: (movingVariance as tf.Tensor).clone(),
    dx,
    dGamma: grads[gamma.name] as tf.Tensor,
    dBeta: grads[beta.name] as tf.Tensor,
  };
  tf.dispose([x, w, ...weights]);
  for (const weight of layer.weights) weight.dispose();
  return result;
}

describe.skipIf(skipUnlessAvailable("the native TensorFlow backend", problem))(`fused batch norm on the tensorflow backend (skipped: ${problem ?? ""})`, () => {
  beforeAll(async () => {
    await initBackend("tensorflow", { purpose: "train" });
  });
  afterAll(() => {
    installFusedOps();
  });

  it("is installed when the tensorflow backend activates", () => {
    expect(fusedBatchNormInstalled()).toBe(true);
  });

  it.each([
    { shape: [4, 7, 5, 6] as [number, number, number, number], momentum: 0.99, epsilon: 1e-3 },
    { shape: [2, 16, 16, 24] as [number, number, number, number], momentum: 0.999, epsilon: 1e-3 },
    { shape: [1, 3, 3, 8] as [number, number, number, number], momentum: 0.9, epsilon: 1e-5 },
  ])("equals the unfused path: output, moving stats, gradients ($shape)", ({ shape, momentum, epsilon }) => {
    installFusedOps();
    const before = tf.memory().numTensors;
    const fused = step(shape, momentum, epsilon, 11);
    uninstallFusedOps();
    const plain = step(shape, momentum, epsilon, 11);
    installFusedOps();
    for (const key of ["y", "movingMean", "movingVariance", "dx", "dGamma", "dBeta"] as const) {
      expect(relError(fused[key], plain[key]), key).toBeLessThan(1e-4);
    }
    tf.dispose([...Object.values(fused), ...Object.values(plain)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("leaves inference mode on tfjs's own kernel and leaks no tensors in a training step", () => {
    installFusedOps();
    const layer = tf.layers.batchNormalization({});
    const x = tf.randomNormal([2, 4, 4, 3]);
    layer.apply(x, { training: false });
    const before = tf.memory().numTensors;
    const gamma = layer.weights[0]?.read() as tf.Variable;
    tf.tidy(() => {
      tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor), [gamma]);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    for (const weight of layer.weights) weight.dispose();
  });
});
