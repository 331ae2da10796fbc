import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { activeBackend, backendCanTrain, initBackend } from "../../stages/runtime/backend.js";
import { RuntimeError } from "../../stages/runtime/failures.js";

// One backend per process: vitest gives each test file its own module state.
describe("initBackend cpu", () => {
  it("refuses wasm for training before loading anything", async () => {
    const error = await initBackend("wasm", { purpose: "train" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).message).toMatch(/^the wasm backend cannot train yet: .*Conv2DBackpropFilter/);
    expect((error as RuntimeError).message).toContain("use tensorflow (npx mu-pipe setup tensorflow) or cpu");
    expect(activeBackend()).toBeNull();
  });

  it("activates the pure-JS backend and reports it", async () => {
    const info = await initBackend("cpu", { purpose: "train" });
    expect(info).toMatchObject({ name: "cpu", version: "4.22.0", threads: 1 });
    expect(info.detail).toContain("pure JavaScript");
    expect(tf.getBackend()).toBe("cpu");
    expect(backendCanTrain(info)).toBe(true);
    expect(Array.from(tf.matMul([[1, 2]], [[3], [4]]).dataSync())).toEqual([11]);
  });

  it("returns the same info later and refuses to switch", async () => {
    const first = await initBackend("cpu", { purpose: "infer" });
    expect(await initBackend("auto", { purpose: "train" })).toBe(first);
    await expect(initBackend("wasm", { purpose: "infer" })).rejects.toThrow("the cpu backend is already active in this process; cannot switch to wasm");
  });
});
