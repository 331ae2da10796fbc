import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";

import { NadamOptimizer, nadamMomentum } from "../../stages/train/nadam.js";
import { createOptimizer } from "../../stages/train/optimizers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/*
 * Hand computation (beta1 0.9, beta2 0.999, epsilon 1e-7, lr 0.1), x0 = [1, -2]:
 *   u1 = 0.9 (1 - 0.5 * 0.96^0.004) = 0.4500734736, u2 = 0.4501469352, u3 = 0.4502203848
 * step 1, g = [0.5, -1]: m = 0.1 g, v = 0.001 g^2, P1 = u1
 *   m_hat = u2 m / (1 - u1 u2) + (1 - u1) g / (1 - u1) = g (1 + 0.1 u2 / (1 - u1 u2))
 *   v_hat = v / (1 - 0.999) = g^2
 *   x1 = x0 - 0.1 * sign(g) * (1 + 0.1 u2 / (1 - u1 u2)) = [0.8943548433, -1.8943548327]
 * step 2, g = [0.25, 0.5]: the same formulas with t = 2 give [0.8419625265, -1.9354658005].
 */
const STEP_1 = [0.8943548432934925, -1.8943548327289779];
const STEP_2 = [0.8419625265127457, -1.9354658004519876];

function step(optimizer: tf.Optimizer, x: tf.Variable, gradient: number[]): void {
  tf.tidy(() => optimizer.applyGradients([{ name: x.name, tensor: tf.tensor1d(gradient) }]));
}

describe("Nadam", () => {
  test("momentum schedule", () => {
    expect(nadamMomentum(0.9, 1)).toBeCloseTo(0.45007347359129607, 12);
    expect(nadamMomentum(0.9, 2)).toBeCloseTo(0.4501469351862175, 12);
  });

  test("two steps match the hand computation", () => {
    const x = tf.variable(tf.tensor1d([1, -2]));
    const nadam = new NadamOptimizer({ learningRate: 0.1 });
    step(nadam, x, [0.5, -1]);
    const first = Array.from(x.dataSync());
    step(nadam, x, [0.25, 0.5]);
    const second = Array.from(x.dataSync());
    first.forEach((v, i) => expect(v).toBeCloseTo(STEP_1[i] as number, 5));
    second.forEach((v, i) => expect(v).toBeCloseTo(STEP_2[i] as number, 5));
    expect(nadam.iterations).toBe(2);
    nadam.dispose();
    x.dispose();
  });

  test("state moved through getState/setState continues exactly (checkpoint resume)", async () => {
    const x = tf.variable(tf.tensor1d([1, -2]));
    const first = createOptimizer({ name: "nadam", lr: 0.1, momentum: 0 });
    step(first.optimizer, x, [0.5, -1]);
    const state = await first.getState();
    expect(state.iterations).toBe(1);
    const second = createOptimizer({ name: "nadam", lr: 0.1, momentum: 0 });
    await second.setState(state);
    first.dispose();
    step(second.optimizer, x, [0.25, 0.5]);
    Array.from(x.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(STEP_2[i] as number, 5));
    second.dispose();
    x.dispose();
  });

  test("minimize leaves no tensors behind; lr can change between steps", () => {
    const x = tf.variable(tf.tensor1d([1, -2]));
    const training = createOptimizer({ name: "nadam", lr: 0.1, momentum: 0 });
    const loss = (): tf.Scalar => tf.sum(tf.square(x));
    const minimizeOnce = (): void => {
      tf.tidy(() => {
        training.optimizer.minimize(loss, true, [x]);
      });
    };
    minimizeOnce();
    const after = tf.memory().numTensors;
    training.setLearningRate(0.01);
    expect(training.getLearningRate()).toBe(0.01);
    for (let i = 0; i < 3; i++) minimizeOnce();
    expect(tf.memory().numTensors).toBe(after);
    training.dispose();
    x.dispose();
  });

  test("adam and sgd take lr changes too", () => {
    for (const name of ["adam", "sgd"] as const) {
      const training = createOptimizer({ name, lr: 0.5, momentum: 0.9 });
      training.setLearningRate(0.05);
      expect(training.getLearningRate()).toBe(0.05);
      training.dispose();
    }
  });
});
