import os from "node:os";
import { BACKEND_ORDER_NAMES, pickAuto } from "../../stages/runtime/auto-choice.js";
import { cacheRoot } from "../../stages/runtime/native-cache.js";
import { probeBackends, type BackendProbe } from "../../stages/runtime/probe.js";
import { EXPECTED_SPEED, SPEED_CONDITIONS, formatSpeed } from "../../stages/runtime/speed.js";
import { parseCommandArgs } from "../args.js";
import type { Command, CommandIO } from "../command.js";

const usage = `usage: mu-pipe doctor [--format text|json]

Shows which compute backends load on this machine (each tried in a child process), their
versions and threads, the speed to expect from each, and the command that enables a
faster one.`;

const options = { format: { type: "string", default: "text" } } as const;

export interface DoctorReport {
  readonly version: 1;
  readonly node: string;
  readonly platform: string;
  readonly cpus: number;
  readonly backends: readonly (BackendProbe & { readonly expected: (typeof EXPECTED_SPEED)[keyof typeof EXPECTED_SPEED] })[];
  /** What `runtime.backend: auto` takes (for training and inference alike). */
  readonly auto: string | null;
  readonly speedConditions: string;
  /** The command that would make `auto` pick something faster; null when nothing here can. */
  readonly next: string | null;
  /** Where built native bindings are kept, to come back after npm ci (stages/runtime/native-cache.ts). */
  readonly bindingCache: string;
}

export function doctorReport(probes: readonly BackendProbe[], hasNvidiaGpu: boolean, bindingCache: string = cacheRoot()): DoctorReport {
  const byName = new Map(probes.map((p) => [p.name, p]));
  const ordered = BACKEND_ORDER_NAMES.map((name) => byName.get(name)).filter((p): p is BackendProbe => p !== undefined);
  const auto = pickAuto(ordered);
  // The fastest unavailable backend ranked above what auto takes.
  const better = ordered
    .slice(0, auto === null ? ordered.length : ordered.findIndex((p) => p.name === auto))
    .filter((p) => !p.available && p.enable !== null && (p.name !== "tensorflow-gpu" || hasNvidiaGpu));
  return {
    version: 1,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: os.availableParallelism(),
    backends: ordered.map((p) => ({ ...p, expected: EXPECTED_SPEED[p.name] })),
    auto,
    speedConditions: SPEED_CONDITIONS,
    next: better.at(-1)?.enable ?? null,
    bindingCache,
  };
}

export function printDoctor(report: DoctorReport, io: CommandIO): void {
  io.out(`node     ${report.node} (${report.platform}, ${report.cpus} CPUs)`);
  io.out(`cache    ${report.bindingCache} (native bindings, restored from here after npm ci)`);
  io.out("");
  io.out("backends, fastest first:");
  const width = Math.max(...report.backends.map((b) => b.name.length));
  for (const b of report.backends) {
    const state = b.available ? "available  " : "unavailable";
    const threads = b.threads === null ? "" : `, ${b.threads} thread${b.threads === 1 ? "" : "s"}`;
    io.out(`  ${b.name.padEnd(width)}  ${state}  ${b.detail}${threads}`);
    io.out(`  ${"".padEnd(width)}  expect: ${formatSpeed(b.expected)} (${b.expected.note})`);
    if (!b.available && b.enable) io.out(`  ${"".padEnd(width)}  enable: ${b.enable}`);
  }
  io.out(`  (speeds: ${report.speedConditions})`);
  io.out("");
  io.out(`runtime.backend: auto picks ${report.auto ?? "nothing"}`);
  io.out(report.next ? `faster: ${report.next}` : "this is the fastest backend this machine can use");
}

export const doctorCommand: Command = {
  name: "doctor",
  summary: "show which compute backends work here",
  usage,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, options, usage);
    const { existsSync } = await import("node:fs");
    const report = doctorReport(await probeBackends(), existsSync("/dev/nvidiactl"));
    if (values.format === "json") io.out(JSON.stringify(report, null, 2));
    else printDoctor(report, io);
    return 0;
  },
};
