import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolvePackageDir } from "../../stages/runtime/native-package.js";
import { tryWasmThreads, type WasmThreadsHost } from "../../stages/runtime/wasm-threads.js";
import { relativeError } from "./relative-error.js";

const here = path.dirname(fileURLToPath(import.meta.url));

interface StepResult {
  readonly threads: number;
  readonly detail: string;
  readonly logs: string[];
  readonly loss: number;
  readonly variables: { name: string; length: number }[];
  readonly grads: Float32Array;
}

/** Runs test/runtime/wasm-train-step.mjs in its own process with `tmp` as its temporary folder. */
async function trainStep(threads: number, tmp: string): Promise<StepResult> {
  const out = path.join(tmp, `grads-${threads}.bin`);
  const child = spawn(process.execPath, [path.join(here, "wasm-train-step.mjs"), String(threads), out], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
  // The step takes seconds; a process kept alive by idle wasm threads would never exit.
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  clearTimeout(timer);
  expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: "" });
  const result = JSON.parse(stdout.trim()) as Omit<StepResult, "grads">;
  const bytes = await readFile(out);
  await rm(out);
  return { ...result, grads: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
}


describe("wasm backend on threads", () => {
  let tmp = "";
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "wasm-threads-test-"));
  });
  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("a MU-Net training step on 2 threads gives the loss and gradients of 1 thread; both processes exit by themselves, leaving no files", async () => {
    const one = await trainStep(1, tmp);
    const two = await trainStep(2, tmp);
    expect(one).toMatchObject({ threads: 1, logs: [], detail: "@tensorflow/tfjs-backend-wasm 4.22.0 (XNNPACK, single-threaded build)" });
    expect(two).toMatchObject({ threads: 2, logs: [], detail: "@tensorflow/tfjs-backend-wasm 4.22.0 (XNNPACK, threaded build)" });
    // The worker script lived in a private folder under TMPDIR only while the backend started.
    expect(await readdir(tmp)).toEqual([]);

    expect(Math.abs(two.loss - one.loss) / Math.abs(one.loss)).toBeLessThan(1e-4);
    expect(two.variables).toEqual(one.variables);
    expect(one.variables.length).toBeGreaterThan(100);
    let at = 0;
    for (const { name, length } of one.variables) {
      const [a, b] = [two.grads.subarray(at, at + length), one.grads.subarray(at, at + length)];
      expect(relativeError(a, b), name).toBeLessThan(1e-4);
      at += length;
    }
    expect(at).toBe(one.grads.length);
  });

  describe("tryWasmThreads", () => {
    const packageDir = resolvePackageDir("@tensorflow/tfjs-backend-wasm") ?? "";
    const nodeOs = createRequire(import.meta.url)("node:os") as { cpus: unknown };

    function fakeHost(version: string, setBackend: () => Promise<boolean>) {
      const flags = new Map<string, boolean>();
      const threadCounts: number[] = [];
      const host: WasmThreadsHost = {
        env: { set: (flag, value) => void flags.set(flag, value), getAsync: async (flag) => flag === "WASM_HAS_SIMD_SUPPORT" },
        wasm: { version_wasm: version, setThreadsCount: (n) => void threadCounts.push(n), getThreadsCount: () => threadCounts.at(-1) ?? -1 },
        packageDir,
        setBackend,
        backend: () => null,
      };
      return { host, flags, threadCounts };
    }

    it("another package version: says so and changes nothing", async () => {
      const { host, flags, threadCounts } = fakeHost("4.21.0", () => Promise.reject(new Error("must not start")));
      expect(await tryWasmThreads(host, 2)).toBe("threads are set up for @tensorflow/tfjs-backend-wasm 4.22.0, this is 4.21.0");
      expect(flags.size + threadCounts.length).toBe(0);
    });

    it("while the backend starts, tfjs's worker Blob opens as a private file; afterwards globals are restored and the file is gone", async () => {
      const before = { createObjectURL: URL.createObjectURL, cpus: nodeOs.cpus, tmpdir: process.env.TMPDIR };
      process.env.TMPDIR = tmp;
      const seen: { workerUrl: string; workerText: string; otherUrl: string; cpus: number } = { workerUrl: "", workerText: "", otherUrl: "", cpus: 0 };
      const { wasmWorkerContents } = createRequire(import.meta.url)(path.join(packageDir, "wasm-out/tfjs-backend-wasm-threaded-simd.worker.js")) as { wasmWorkerContents: string };
      const { host, flags, threadCounts } = fakeHost("4.22.0", async () => {
        // What tfjs's init() does for the threaded build.
        seen.workerUrl = URL.createObjectURL(new Blob([wasmWorkerContents.replace(/\n/g, "\\n")], { type: "application/javascript" }));
        seen.workerText = await readFile(seen.workerUrl, "utf8");
        seen.otherUrl = URL.createObjectURL(new Blob(["x"], { type: "application/javascript" }));
        seen.cpus = os.cpus().length; // not asked from the wasm glue: the real answer
        return false;
      });
      try {
        expect(await tryWasmThreads(host, 3)).toBe("the threaded build did not initialise (tfjs printed why)");
      } finally {
        process.env.TMPDIR = before.tmpdir;
        if (before.tmpdir === undefined) delete process.env.TMPDIR;
      }
      expect(path.dirname(path.dirname(seen.workerUrl))).toBe(tmp);
      expect(seen.workerText).toContain(`data.urlOrBlob = ${JSON.stringify(path.join(packageDir, "wasm-out/tfjs-backend-wasm-threaded-simd.js"))}`);
      expect(seen.workerText.endsWith(wasmWorkerContents.replace(/\n/g, "\\n"))).toBe(true);
      expect(seen.otherUrl).toMatch(/^blob:/);
      expect(seen.cpus).toBe(os.cpus().length);
      // Asked for 3, then back to one thread with the flag off for the single-threaded build.
      expect(threadCounts).toEqual([3, 1]);
      expect(flags.get("WASM_HAS_MULTITHREAD_SUPPORT")).toBe(false);
      expect({ createObjectURL: URL.createObjectURL, cpus: nodeOs.cpus }).toEqual({ createObjectURL: before.createObjectURL, cpus: before.cpus });
      expect(await readdir(tmp)).toEqual([]);
      URL.revokeObjectURL(seen.otherUrl);
    });

    it("a backend that throws while starting: one line saying why", async () => {
      const { host } = fakeHost("4.22.0", () => Promise.reject(new Error("worker exploded\nstack...")));
      expect(await tryWasmThreads(host, 2)).toBe("the threaded build failed: worker exploded");
    });
  });
});
