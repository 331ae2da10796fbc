import { describe, expect, it } from "vitest";
import type { CommandIO } from "../../cli/command.js";
import { doctorCommand, doctorReport, printDoctor } from "../../cli/commands/doctor.js";
import type { BackendProbe } from "../../stages/runtime/probe.js";

function captureIO(): CommandIO & { text: () => string } {
  let text = "";
  return { cwd: "/", env: {}, interactive: false, out: (l) => void (text += `${l}\n`), err: (l) => void (text += `${l}\n`), text: () => text };
}

const probe = (name: BackendProbe["name"], available: boolean, detail: string, enable: string | null = null): BackendProbe => ({
  name,
  available,
  version: available ? "4.22.0" : null,
  threads: available ? 1 : null,
  detail,
  enable,
});

describe("mu-pipe doctor", () => {
  it("lists every backend with speeds and the command for a faster one", () => {
    const report = doctorReport(
      [
        probe("cpu", true, "@tensorflow/tfjs-backend-cpu 4.22.0 (pure JavaScript)"),
        probe("wasm", true, "@tensorflow/tfjs-backend-wasm 4.22.0"),
        probe("tensorflow", false, "@tensorflow/tfjs-node is not installed", "npx mu-pipe setup tensorflow"),
        probe("tensorflow-gpu", false, "@tensorflow/tfjs-node-gpu is not installed", "npx mu-pipe setup tensorflow --gpu"),
      ],
      false,
      "/home/me/.cache/mu-pipe",
    );
    const io = captureIO();
    printDoctor(report, io);
    const lines = io.text().split("\n");
    expect(lines).toContain("cache    /home/me/.cache/mu-pipe (native bindings, restored from here after npm ci)");
    expect(lines).toContain("  tensorflow-gpu  unavailable  @tensorflow/tfjs-node-gpu is not installed");
    expect(lines).toContain("  tensorflow      unavailable  @tensorflow/tfjs-node is not installed");
    expect(lines).toContain("                  expect: train ~12.2 img/s, infer ~42 img/s (native TensorFlow, all cores; fused batch norm)");
    expect(lines).toContain("  wasm            available    @tensorflow/tfjs-backend-wasm 4.22.0, 1 thread");
    expect(lines).toContain("  cpu             available    @tensorflow/tfjs-backend-cpu 4.22.0 (pure JavaScript), 1 thread");
    expect(lines).toContain("  (speeds: MU-Net 224x224, batch 8, measured on a 2-core AMD EPYC)");
    expect(lines).toContain("runtime.backend: auto picks wasm");
    // No GPU here, so the GPU build is not what doctor recommends.
    expect(lines).toContain("faster: npx mu-pipe setup tensorflow");
  });

  it("recommends the GPU build only on a machine with an NVIDIA GPU, and nothing when at the top", () => {
    const probes = [probe("tensorflow-gpu", false, "not installed", "npx mu-pipe setup tensorflow --gpu"), probe("tensorflow", true, "x"), probe("cpu", true, "y")];
    expect(doctorReport(probes, true).next).toBe("npx mu-pipe setup tensorflow --gpu");
    expect(doctorReport(probes, false).next).toBeNull();
  });

  it("probes this machine for real: a line per backend, and JSON", async () => {
    const io = captureIO();
    expect(await doctorCommand.run([], io)).toBe(0);
    for (const name of ["tensorflow-gpu", "tensorflow", "wasm", "cpu"]) expect(io.text()).toMatch(new RegExp(`^  ${name} +(available|unavailable)  `, "m"));
    expect(io.text()).toMatch(/^ {2}wasm +available {4}@tensorflow\/tfjs-backend-wasm 4\.22\.0/m);
    expect(io.text()).toMatch(/^ {2}cpu +available {4}@tensorflow\/tfjs-backend-cpu 4\.22\.0/m);

    const json = captureIO();
    await doctorCommand.run(["--format", "json"], json);
    const report = JSON.parse(json.text()) as { version: number; backends: { name: string; available: boolean; expected: { infer: number | null } }[] };
    expect(report.version).toBe(1);
    expect(report.backends.map((b) => b.name)).toEqual(["tensorflow-gpu", "tensorflow", "wasm", "cpu"]);
    expect(report.backends.find((b) => b.name === "wasm")?.expected.infer).toBe(13.5);
  });
});
