import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runSetup } from "../../cli/commands/setup.js";
import type { CommandIO } from "../../cli/command.js";
import { processRunner, type CommandRunner, type RunOptions, type RunResult } from "../../stages/runtime/command-runner.js";
import { compareVersions } from "../../stages/runtime/native-build.js";

/** Answers by program and first argument; records every call. Unlisted programs are "not found". */
function fakeRunner(answers: Record<string, (args: readonly string[], options: RunOptions) => Partial<RunResult>>) {
  const calls: string[] = [];
  const runner: CommandRunner = {
    async run(command, args, options = {}) {
      const key = [path.basename(command), args[0] ?? ""].join(" ");
      calls.push(`${path.basename(command)} ${args.filter((a) => !a.includes("\n")).join(" ")}`.trim());
      const answer = answers[key] ?? answers[path.basename(command)];
      if (!answer) return { found: false, exitCode: null, stdout: "", stderr: `spawn ${command} ENOENT` };
      return { found: true, exitCode: 0, stdout: "", stderr: "", ...answer(args, options) };
    },
  };
  return { runner, calls };
}

function captureIO(env: NodeJS.ProcessEnv = {}): CommandIO & { text: () => string } {
  let text = "";
  const add = (line: string) => {
    text += line.endsWith("\n") ? line : `${line}\n`;
  };
  // The binding cache in the test's folder, never the user's ~/.cache.
  return { cwd: "/", env: { MU_PIPE_CACHE: path.join(root, "cache"), ...env }, interactive: false, out: add, err: add, text: () => text };
}

let root: string;
let tfDir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "mu-setup-"));
  tfDir = path.join(root, "site-packages", "tensorflow");
  for (const file of ["include/tensorflow/c/c_api.h", "include/tensorflow/c/eager/c_api.h", "libtensorflow_cc.so.2", "libtensorflow_framework.so.2"]) {
    await mkdir(path.dirname(path.join(tfDir, file)), { recursive: true });
    await writeFile(path.join(tfDir, file), "");
  }
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const python = { python3: () => ({ stdout: "Python 3.11.7\n" }) };
const compilers = { "g++": () => ({ stdout: "g++ 12.2.0\n" }), make: () => ({ stdout: "GNU Make 4.3\n" }) };
const tensorflowAt = (version: string, dir: () => string) => ({ "python3 -c": () => ({ stdout: `banner\n${JSON.stringify({ version, dir: dir() })}\n` }) });

async function installFakePackage(withBinding: boolean, stampDir?: string): Promise<string> {
  const dir = path.join(root, "node_modules", "@tensorflow", "tfjs-node");
  await mkdir(path.join(dir, "lib", "napi-v8"), { recursive: true });
  await mkdir(path.join(dir, "deps"), { recursive: true });
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "@tensorflow/tfjs-node", version: "4.22.0" }));
  if (withBinding) await writeFile(path.join(dir, "lib", "napi-v8", "tfjs_binding.node"), "");
  if (stampDir) {
    await writeFile(path.join(dir, "deps", "mu-pipe-build.json"), JSON.stringify({ version: 1, tensorflowVersion: "2.21.0", tensorflowDir: stampDir, python: "python3", builtAt: "x" }));
  }
  return dir;
}

describe("mu-pipe setup tensorflow: failures a person can act on", () => {
  it("no python on PATH (real runner, empty PATH)", async () => {
    const io = captureIO({ PATH: path.join(root, "empty") });
    expect(await runSetup(["tensorflow"], io, processRunner, root)).toBe(1);
    expect(io.text()).toBe(
      "mu-pipe setup: no Python found (tried `python3`: not found on PATH)\n" +
        "  install Python 3.9-3.12 (e.g. `apt-get install python3 python3-pip`) or pass --python /path/to/python\n",
    );
  });

  it("no compiler: fails before any long install", async () => {
    const { runner, calls } = fakeRunner({ ...python, make: () => ({ stdout: "GNU Make 4.3" }) });
    const io = captureIO();
    expect(await runSetup(["tensorflow"], io, runner, root)).toBe(1);
    expect(io.text()).toContain("mu-pipe setup: building the native binding needs a C++ toolchain; missing: g++\n  install one (e.g. `apt-get install g++ make`) and rerun");
    expect(calls.some((c) => c.includes("pip"))).toBe(false);
  });

  it("no tensorflow and no pip", async () => {
    const { runner } = fakeRunner({
      ...python,
      ...compilers,
      "python3 -c": () => ({ stdout: JSON.stringify({ missing: "No module named 'tensorflow'" }) }),
      "python3 -m": () => ({ exitCode: 1, stderr: "/usr/bin/python3: No module named pip" }),
    });
    const io = captureIO();
    expect(await runSetup(["tensorflow", "--python", "python3"], io, runner, root)).toBe(1);
    expect(io.text()).toContain("mu-pipe setup: python3 has no pip (/usr/bin/python3: No module named pip), so TensorFlow cannot be installed into it");
  });

  it("tensorflow too old names the upgrade command", async () => {
    const { runner } = fakeRunner({ ...python, ...compilers, ...tensorflowAt("2.8.4", () => tfDir) });
    const io = captureIO();
    expect(await runSetup(["tensorflow", "--gpu"], io, runner, root)).toBe(1);
    expect(io.text()).toContain("mu-pipe setup: python3 has TensorFlow 2.8.4; the binding needs 2.9.0 or newer\n  upgrade it: `python3 -m pip install --upgrade tensorflow`");
  });

  it("a failed build shows the log tail and where the full log is", async () => {
    const packageDir = await installFakePackage(false);
    const { runner, calls } = fakeRunner({
      ...python,
      ...compilers,
      ...tensorflowAt("2.21.0", () => tfDir),
      npm: () => ({ exitCode: 1 }),
      node: (args) => (args[1] === "rebuild" ? { exitCode: 2, stderr: "gyp info ok\nbinding/tfjs_backend.cc:12: error: TF_Foo was not declared\nmake: *** Error 1" } : { exitCode: 1 }),
    });
    const io = captureIO();
    expect(await runSetup(["tensorflow"], io, runner, root)).toBe(1);
    const text = io.text();
    expect(text).toContain("package    @tensorflow/tfjs-node@4.22.0 already installed");
    expect(text).toContain("mu-pipe setup: building the binding failed (exit 2): node ");
    expect(text).toContain("  | binding/tfjs_backend.cc:12: error: TF_Foo was not declared\n  | make: *** Error 1");
    expect(text).toContain(`  full log: ${path.join(root, "node_modules", ".cache", "mu-pipe", "node-gyp-build.log")}`);
    expect(calls.find((c) => c.includes("rebuild"))).toContain(`--module_name=tfjs_binding --module_path=${packageDir}/lib/napi-v8 --napi_build_version=8`);
  });
});

describe("mu-pipe setup tensorflow: idempotent", () => {
  it("skips install and build when the binding was built against this wheel, and still checks it", async () => {
    await installFakePackage(true, tfDir);
    const checked = { backend: "tensorflow", packageBackend: "tensorflow", tensorflow: "2.21.0", gpu: false, result: [7, 10, 15, 22] };
    const { runner, calls } = fakeRunner({ ...python, ...compilers, ...tensorflowAt("2.21.0", () => tfDir), "node -e": () => ({ stdout: JSON.stringify(checked) }) });
    const io = captureIO();
    expect(await runSetup(["tensorflow"], io, runner, root)).toBe(0);
    expect(io.text()).toContain("build      binding already built against TensorFlow 2.21.0; skipped");
    expect(io.text()).toContain("check      tf.getBackend() = tensorflow; TensorFlow 2.21.0; matMul correct");
    expect(calls.some((c) => c.startsWith("npm") || c.includes("rebuild") || c.includes("pip install"))).toBe(false);
  });

  it("a check that finds another tfjs-core copy fails clearly", async () => {
    await installFakePackage(true, tfDir);
    const checked = { backend: "cpu", packageBackend: "tensorflow", tensorflow: "2.21.0", gpu: false, result: [7, 10, 15, 22] };
    const { runner } = fakeRunner({ ...python, ...compilers, ...tensorflowAt("2.21.0", () => tfDir), "node -e": () => ({ stdout: JSON.stringify(checked) }) });
    const io = captureIO();
    expect(await runSetup(["tensorflow"], io, runner, root)).toBe(1);
    expect(io.text()).toContain('@tensorflow/tfjs reports backend "cpu", not "tensorflow": @tensorflow/tfjs-node uses another copy of @tensorflow/tfjs-core');
  });
});

describe("compareVersions", () => {
  it("orders TensorFlow versions numerically", () => {
    expect(compareVersions("2.10.0", "2.9.0")).toBeGreaterThan(0);
    expect(compareVersions("2.8.4", "2.9.0")).toBeLessThan(0);
    expect(compareVersions("2.21.0rc1", "2.21.0")).toBe(0);
  });
});
