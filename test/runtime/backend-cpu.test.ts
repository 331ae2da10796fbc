import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { activeBackend, initBackend } from "../../stages/runtime/backend.js";

// One backend per process: vitest gives each test file its own module state.
describe("initBackend cpu", () => {
  it("activates the pure-JS backend and reports it", async () => {
    expect(activeBackend()).toBeNull();
    const info = await initBackend("cpu", { purpose: "train" });
    expect(info).toMatchObject({ name: "cpu", version: "4.22.0", threads: 1 });
    expect(info.detail).toContain("pure JavaScript");
    expect(tf.getBackend()).toBe("cpu");
    expect(activeBackend()).toBe(info);
    expect(Array.from(tf.matMul([[1, 2]], [[3], [4]]).dataSync())).toEqual([11]);
  });

  it("returns the same info later and refuses to switch", async () => {
    const first = await initBackend("cpu", { purpose: "infer" });
    expect(await initBackend("auto", { purpose: "train" })).toBe(first);
    await expect(initBackend("wasm", { purpose: "infer" })).rejects.toThrow("the cpu backend is already active in this process; cannot switch to wasm");
  });
});
