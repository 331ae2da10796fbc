import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { backendEnvironment, initBackend } from "../../stages/runtime/backend.js";
import { wasmThreadsWanted } from "../../stages/runtime/wasm-threads.js";

describe("initBackend wasm", () => {
  it("loads the .wasm files in Node on the 2 threads asked for, and matches the cpu backend on a convolution", async () => {
    const logs: string[] = [];
    const info = await initBackend("wasm", { purpose: "train", threads: 2, log: (line) => logs.push(line) });
    expect(info).toMatchObject({ name: "wasm", version: "4.22.0", threads: 2, detail: "@tensorflow/tfjs-backend-wasm 4.22.0 (XNNPACK, threaded build)" });
    expect(backendEnvironment(info)).toMatchObject({ backend: "wasm", threads: 2 });
    expect(logs).toEqual([]);
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

  it("asks for every core unless told, and one thread at least", () => {
    expect(wasmThreadsWanted(undefined)).toBe(os.availableParallelism());
    expect(wasmThreadsWanted(3)).toBe(3);
    expect(wasmThreadsWanted(0)).toBe(1);
  });
});
