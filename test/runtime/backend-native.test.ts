import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { initBackend } from "../../stages/runtime/backend.js";
import { nativeProblem, nativeStatus } from "../../stages/runtime/native-package.js";

const problem = nativeProblem(nativeStatus("tensorflow"));

describe.skipIf(problem === null)(`tensorflow backend absent (${problem ?? "it is built here"})`, () => {
  it("an explicit request says why and the command that enables it", async () => {
    await expect(initBackend("tensorflow", { purpose: "train" })).rejects.toThrow(
      `the tensorflow backend cannot load: ${problem ?? ""}\n  to enable it: npx mu-pipe setup tensorflow`,
    );
  });
});

describe.skipIf(skipUnlessAvailable("the native TensorFlow backend", problem))(`tensorflow backend built (skipped: ${problem ?? ""})`, () => {
  it("activates on the same tfjs-core and runs an op", async () => {
    const info = await initBackend("tensorflow", { purpose: "train" });
    expect(info.name).toBe("tensorflow");
    expect(info.version).toMatch(/^2\.\d+\.\d+/);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(tf.getBackend()).toBe("tensorflow");
    expect(Array.from(tf.matMul([[1, 2]], [[3], [4]]).dataSync())).toEqual([11]);
  });
});
