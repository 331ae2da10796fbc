import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend } from "../../stages/runtime/backend.js";

describe("initBackend wasm", () => {
  it("loads the .wasm files in Node and matches the cpu backend on a convolution", async () => {
    const info = await initBackend("wasm", { purpose: "train" });
    expect(info).toMatchObject({ name: "wasm", version: "4.22.0", threads: 1 });
    expect(tf.getBackend()).toBe("wasm");

    const input = Array.from({ length: 1 * 7 * 7 * 3 }, (_, i) => Math.sin(i));
    const filter = Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i * 0.7));
    const conv = () => tf.tidy(() => tf.conv2d(tf.tensor4d(input, [1, 7, 7, 3]), tf.tensor4d(filter, [3, 3, 3, 4]), 2, "same").dataSync());
    const onWasm = Array.from(conv());
    // Compare against pure JS directly (bypassing the one-backend-per-process guard on purpose).
    await tf.setBackend("cpu");
    const onCpu = Array.from(conv());
    expect(onWasm).toHaveLength(4 * 4 * 4);
    onWasm.forEach((v, i) => expect(v).toBeCloseTo(onCpu[i] ?? NaN, 4));
  });

  it("auto takes the fastest backend that is available", async () => {
    const { pickAuto } = await import("../../stages/runtime/auto-choice.js");
    const probes = [
      { name: "tensorflow" as const, available: false },
      { name: "wasm" as const, available: true },
      { name: "cpu" as const, available: true },
    ];
    expect(pickAuto(probes)).toBe("wasm");
    expect(pickAuto(probes.map((p) => ({ ...p, available: false })))).toBeNull();
  });
});
