import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { initBackend } from "../../stages/runtime/backend.js";
import { installFusedOps, uninstallFusedOps } from "../../stages/runtime/fused-ops/index.js";
import { nativeProblem, nativeStatus } from "../../stages/runtime/native-package.js";

const problem = nativeProblem(nativeStatus("tensorflow"));

/** Positions where two tensors differ (0 and -0 are equal: Relu6Grad writes 0 where tfjs's dy * 0 gives -0). */
function mismatches(a: tf.Tensor, b: tf.Tensor): { index: number; fused: number; plain: number }[] {
  const av = a.dataSync();
  const bv = b.dataSync();
  const out: { index: number; fused: number; plain: number }[] = [];
  for (let i = 0; i < bv.length && out.length < 5; i++) if (av[i] !== bv[i]) out.push({ index: i, fused: av[i] as number, plain: bv[i] as number });
  return out;
}

/** Runs `f` with the fused ops installed, then without: kernel names of the first and both results. */
async function fusedAndPlain(f: () => tf.Tensor[]): Promise<{ kernels: string[]; fused: tf.Tensor[]; plain: tf.Tensor[] }> {
  installFusedOps();
  const before = tf.memory().numTensors;
  const profile = await tf.profile(f);
  const fused = profile.result as tf.Tensor[];
  expect(tf.memory().numTensors).toBe(before + fused.length);
  uninstallFusedOps();
  try {
    return { kernels: profile.kernelNames, fused, plain: f() };
  } finally {
    installFusedOps();
  }
}

describe.skipIf(skipUnlessAvailable("the native TensorFlow backend", problem))(`native ReLU, ReLU6 and gradients on the tensorflow backend (skipped: ${problem ?? ""})`, () => {
  beforeAll(async () => {
    await initBackend("tensorflow", { purpose: "train" });
  });

  it("the Relu gradient equals tfjs's, zeros and negatives included, without tfjs's Step", async () => {
    const x = tf.tidy(() => tf.mul(tf.round(tf.randomNormal([3, 9, 7, 5], 0, 2, "float32", 1)), 0.5)); // many exact zeros
    const w = tf.randomNormal([3, 9, 7, 5], 0, 1, "float32", 2);
    const gradOf = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.relu(input), w)));
    const { kernels, fused, plain } = await fusedAndPlain(() => [gradOf(x)]);
    // ReluGrad runs outside tfjs's kernel registry (no profile entry); tfjs's own gradient would show Step.
    expect(kernels).not.toContain("Step");
    expect(mismatches(fused[0] as tf.Tensor, plain[0] as tf.Tensor)).toEqual([]);
    tf.dispose([x, w, ...fused, ...plain]);
  });

  it("a ReLU layer with maxValue 6 gives tfjs's output and gradient (inputs around 0 and 6) through Relu6 and Relu6Grad", async () => {
    const layer = tf.layers.reLU({ maxValue: 6 });
    // Values on a 0.25 grid in [-2, 8], skipping exactly 6 (where Relu6Grad is 0 and relu + clip passes dy).
    const x = tf.tidy(() => {
      const grid = tf.mul(tf.round(tf.randomUniform([4, 8, 8, 6], -8, 32, "float32", 3)), 0.25);
      return tf.where(tf.equal(grid, 6), tf.fill(grid.shape, 5.75), grid);
    });
    const w = tf.randomNormal([4, 8, 8, 6], 0, 1, "float32", 4);
    const both = (): tf.Tensor[] => {
      const y = layer.apply(x) as tf.Tensor;
      const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, w)))(x);
      return [y, dx];
    };
    const { kernels, fused, plain } = await fusedAndPlain(both);
    expect(kernels).toContain("Relu6");
    expect(kernels).not.toContain("ClipByValue");
    expect(kernels).not.toContain("Step");
    for (const i of [0, 1]) expect(mismatches(fused[i] as tf.Tensor, plain[i] as tf.Tensor)).toEqual([]);
    tf.dispose([x, w, ...fused, ...plain]);
  });
});
