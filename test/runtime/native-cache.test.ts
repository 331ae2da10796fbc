/**
 * The binding cache outside node_modules (stages/runtime/native-cache.ts), on a fake
 * tfjs-node package and a fake wheel in a temp folder: `setup` keeps the binding, and
 * after npm ci removes it, it comes back (binding, deps/ links into the wheel, stamp) in
 * well under a second, only while the wheel it links is still there and unchanged.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runSetup } from "../../cli/commands/setup.js";
import type { CommandIO } from "../../cli/command.js";
import type { CommandRunner } from "../../stages/runtime/command-runner.js";
import { restoreIfMissing } from "../../stages/runtime/native-cache.js";
import { BINDING_PATH, BUILD_STAMP, nativeProblem, nativeStatus } from "../../stages/runtime/native-package.js";
import { fallbackLine, prepareNativeBackend } from "../../stages/runtime/native-startup.js";

let root: string;
let tfDir: string;
let env: NodeJS.ProcessEnv;
const packageDir = (): string => path.join(root, "node_modules", "@tensorflow", "tfjs-node");

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "mu-native-cache-"));
  tfDir = path.join(root, "site-packages", "tensorflow");
  env = { MU_PIPE_CACHE: path.join(root, "cache") };
  for (const file of ["include/tensorflow/c/c_api.h", "include/tensorflow/c/eager/c_api.h", "libtensorflow_cc.so.2", "libtensorflow_framework.so.2"]) {
    await mkdir(path.dirname(path.join(tfDir, file)), { recursive: true });
    await writeFile(path.join(tfDir, file), "wheel bytes");
  }
});
afterEach(async () => rm(root, { recursive: true, force: true }));

/** What npm ci leaves: the optional package, without the binding setup built. */
async function freshPackage(): Promise<void> {
  await rm(packageDir(), { recursive: true, force: true });
  await mkdir(path.join(packageDir(), "deps"), { recursive: true });
  await writeFile(path.join(packageDir(), "package.json"), JSON.stringify({ name: "@tensorflow/tfjs-node", version: "4.22.0" }));
}

/** `mu-pipe setup tensorflow` with every program faked, the binding "built" already. */
async function setup(): Promise<string> {
  await freshPackage();
  await mkdir(path.join(packageDir(), "lib", "napi-v8"), { recursive: true });
  await writeFile(path.join(packageDir(), BINDING_PATH), "the built binding");
  await writeFile(path.join(packageDir(), BUILD_STAMP), JSON.stringify({ version: 1, tensorflowVersion: "2.21.0", tensorflowDir: tfDir, python: "python3", builtAt: "x" }));
  const checked = { backend: "tensorflow", packageBackend: "tensorflow", tensorflow: "2.21.0", gpu: false, result: [7, 10, 15, 22] };
  const runner: CommandRunner = {
    async run(command, args) {
      const stdout = command === "python3" && args[0] === "-c" ? JSON.stringify({ version: "2.21.0", dir: tfDir }) : path.basename(command) === "node" ? JSON.stringify(checked) : "ok";
      return { found: true, exitCode: 0, stdout, stderr: "" };
    },
  };
  let text = "";
  const io: CommandIO = { cwd: "/", env, interactive: false, out: (line) => void (text += `${line}\n`), err: (line) => void (text += `${line}\n`) };
  expect(await runSetup(["tensorflow"], io, runner, root), text).toBe(0);
  return text;
}

describe("the native binding cache", () => {
  it("setup keeps the binding; after npm ci it is restored in well under a second, links and stamp included", async () => {
    const text = await setup();
    expect(text).toMatch(/^cache {6}binding kept in .*\/cache\/native\/@tensorflow\+tfjs-node@4\.22\.0\/tf-2\.21\.0-node-abi\d+-linux-x64: restored from there in milliseconds after npm ci$/m);

    await freshPackage(); // npm ci
    expect(nativeProblem(nativeStatus("tensorflow", root))).toBe("@tensorflow/tfjs-node is installed but its native binding (lib/napi-v8/tfjs_binding.node) is not built");
    const restored = await restoreIfMissing("tensorflow", root, env);
    expect(restored?.kind).toBe("restored");
    if (restored?.kind !== "restored") return;
    expect(restored.ms).toBeLessThan(1000);
    expect(nativeProblem(nativeStatus("tensorflow", root))).toBeNull();
    expect(await readFile(path.join(packageDir(), BINDING_PATH), "utf8")).toBe("the built binding");
    expect(await readlink(path.join(packageDir(), "deps/lib/libtensorflow.so.2"))).toBe(path.join(tfDir, "libtensorflow_cc.so.2"));
    expect(nativeStatus("tensorflow", root).stamp).toMatchObject({ tensorflowVersion: "2.21.0", tensorflowDir: tfDir });
    // Nothing to do the second time.
    expect(await restoreIfMissing("tensorflow", root, env)).toBeNull();
  });

  it("is not restored when the wheel it links is gone or changed, and says why", async () => {
    await setup();
    await freshPackage();
    await writeFile(path.join(tfDir, "libtensorflow_cc.so.2"), "an upgraded wheel, other size");
    const changed = await restoreIfMissing("tensorflow", root, env);
    expect(changed).toMatchObject({ kind: "none", wheels: [{ tensorflowDir: tfDir, python: "python3" }] });
    expect(changed?.kind === "none" ? changed.why : "").toContain(`the wheel at ${tfDir} changed since (libtensorflow_cc.so.2)`);

    await rm(tfDir, { recursive: true });
    const gone = await restoreIfMissing("tensorflow", root, env);
    expect(gone?.kind === "none" ? gone.why : "").toContain(`the TensorFlow 2.21.0 wheel it links is gone (${tfDir})`);
    expect(existsSync(path.join(packageDir(), BINDING_PATH))).toBe(false);
  });

  it("a cached binding for another Node ABI is rebuilt against its wheel, which is still installed", async () => {
    await setup();
    await freshPackage();
    const entryDir = (await readdir(path.join(root, "cache/native/@tensorflow+tfjs-node@4.22.0")))[0] ?? "";
    const entryFile = path.join(root, "cache/native/@tensorflow+tfjs-node@4.22.0", entryDir, "entry.json");
    await writeFile(entryFile, JSON.stringify({ ...JSON.parse(await readFile(entryFile, "utf8")), nodeAbi: "1" }));
    const nodeGyp = path.join(root, "node-gyp.js");
    await writeFile(nodeGyp, "");
    const calls: string[] = [];
    const checked = { backend: "tensorflow", packageBackend: "tensorflow", tensorflow: "2.21.0", gpu: false, result: [7, 10, 15, 22] };
    const runner: CommandRunner = {
      async run(command, args, options = {}) {
        calls.push([path.basename(command), ...args.filter((a) => !a.includes("\n"))].join(" "));
        if (command === "python3" && args[0] === "-c") return { found: true, exitCode: 0, stdout: JSON.stringify({ version: "2.21.0", dir: tfDir }), stderr: "" };
        if (args[0] === nodeGyp) {
          await mkdir(path.dirname(path.join(options.cwd ?? "", BINDING_PATH)), { recursive: true });
          await writeFile(path.join(options.cwd ?? "", BINDING_PATH), "rebuilt");
        }
        const stdout = path.basename(command) === "node" && args[0] === "-e" ? JSON.stringify(checked) : "ok";
        return { found: true, exitCode: 0, stdout, stderr: "" };
      },
    };
    const announced: string[] = [];
    const line = await prepareNativeBackend("auto", { env: { ...env, npm_config_node_gyp: nodeGyp }, root, runner, announce: (text) => announced.push(text) });
    expect(announced).toEqual([expect.stringMatching(/^backend: the tensorflow binding is missing and the cached one does not fit \(.*built for Node ABI 1 .*\); rebuilding it against .*site-packages\/tensorflow$/)]);
    expect(line).toMatch(/^backend: tensorflow binding rebuilt in \d+ s$/);
    expect(calls.some((c) => c.includes("rebuild"))).toBe(true);
    expect(await readFile(path.join(packageDir(), BINDING_PATH), "utf8")).toBe("rebuilt");
    // ... and kept again, for this ABI.
    expect(JSON.parse(await readFile(entryFile, "utf8"))).toMatchObject({ nodeAbi: process.versions.modules });
  });

  it("run's start: one line saying what was restored, or which backend it falls back to and the fix", async () => {
    await setup();
    await freshPackage();
    expect(await prepareNativeBackend("auto", { env, root })).toMatch(/^backend: tensorflow binding restored from the cache in \d+ ms \(npm ci had removed it; .*\)$/);
    expect(await prepareNativeBackend("auto", { env, root })).toBeNull();
    expect(await prepareNativeBackend("wasm", { env, root })).toBeNull();

    await rm(path.join(root, "cache"), { recursive: true });
    await freshPackage();
    expect(await prepareNativeBackend("auto", { env, root })).toBe(
      "backend: falling back to wasm, training about 5x slower (2.4 vs 12.2 images/s for MU-Net at 224x224) because @tensorflow/tfjs-node is installed but its native binding (lib/napi-v8/tfjs_binding.node) is not built; to fix: npx mu-pipe setup tensorflow",
    );
    expect(fallbackLine("tensorflow", "it is not installed", false)).toBe(
      "backend: falling back to cpu, training about 1220x slower (0.01 vs 12.2 images/s for MU-Net at 224x224) because it is not installed; to fix: npx mu-pipe setup tensorflow",
    );
  });
});
