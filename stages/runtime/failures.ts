/**
 * Every way choosing a backend or building the native one can fail, as data, and the one
 * switch that turns a failure into text a person can act on (what went wrong, the exact
 * command that fixes it). The CLI prints; library code only throws `RuntimeError`.
 */
import { indentOutput, unreachable } from "../../pipeline/failure.js";
import type { BackendName } from "./backend-names.js";

export type { BackendName } from "./backend-names.js";

/** Command that builds the native backend here (`--gpu` for the GPU package). */
export function setupCommand(backend: "tensorflow" | "tensorflow-gpu"): string {
  return backend === "tensorflow-gpu" ? "npx mu-pipe setup tensorflow --gpu" : "npx mu-pipe setup tensorflow";
}

export type RuntimeFailure =
  // choosing a backend
  | { readonly reason: "backend-unavailable"; readonly backend: BackendName; readonly why: string; readonly fix: string }
  | { readonly reason: "backend-conflict"; readonly active: BackendName; readonly requested: string }
  | { readonly reason: "no-backend"; readonly tried: readonly { readonly backend: BackendName; readonly why: string }[] }
  // building the native backend (`mu-pipe setup tensorflow`)
  | { readonly reason: "no-python"; readonly python: string; readonly detail: string }
  | { readonly reason: "no-pip"; readonly python: string; readonly detail: string }
  | { readonly reason: "no-compiler"; readonly missing: readonly string[] }
  | { readonly reason: "tensorflow-too-old"; readonly python: string; readonly version: string; readonly minimum: string; readonly wheelPackage: string }
  | { readonly reason: "wheel-incomplete"; readonly tensorflowDir: string; readonly missing: readonly string[] }
  | { readonly reason: "step-failed"; readonly step: string; readonly command: string; readonly exitCode: number | null; readonly logTail: string; readonly logFile: string | null }
  | { readonly reason: "check-failed"; readonly message: string; readonly logTail: string };

export class RuntimeError extends Error {
  constructor(readonly failure: RuntimeFailure) {
    super(formatRuntimeFailure(failure));
    this.name = "RuntimeError";
  }
}


export function formatRuntimeFailure(failure: RuntimeFailure): string {
  switch (failure.reason) {
    case "backend-unavailable":
      return `the ${failure.backend} backend cannot load: ${failure.why}\n  to enable it: ${failure.fix}`;
    case "backend-conflict":
      return `the ${failure.active} backend is already active in this process; cannot switch to ${failure.requested} (one backend per process)`;
    case "no-backend":
      return ["no backend could load:", ...failure.tried.map((t) => `  ${t.backend}: ${t.why}`)].join("\n");
    case "no-python":
      return `no Python found (tried \`${failure.python}\`: ${failure.detail})\n  install Python 3.9-3.12 (e.g. \`apt-get install python3 python3-pip\`) or pass --python /path/to/python`;
    case "no-pip":
      return `${failure.python} has no pip (${failure.detail}), so TensorFlow cannot be installed into it\n  install pip (\`apt-get install python3-pip\` or \`${failure.python} -m ensurepip\`), or install TensorFlow yourself and rerun`;
    case "no-compiler":
      return `building the native binding needs a C++ toolchain; missing: ${failure.missing.join(", ")}\n  install one (e.g. \`apt-get install g++ make\`) and rerun`;
    case "tensorflow-too-old":
      return `${failure.python} has TensorFlow ${failure.version}; the binding needs ${failure.minimum} or newer\n  upgrade it: \`${failure.python} -m pip install --upgrade ${failure.wheelPackage}\``;
    case "wheel-incomplete":
      return `the TensorFlow at ${failure.tensorflowDir} lacks files the build needs: ${failure.missing.join(", ")}\n  reinstall it from a wheel (pip install --force-reinstall tensorflow-cpu)`;
    case "step-failed":
      return [
        `${failure.step} failed (exit ${failure.exitCode ?? "signal"}): ${failure.command}`,
        ...(failure.logTail ? [indentOutput(failure.logTail)] : []),
        ...(failure.logFile ? [`  full log: ${failure.logFile}`] : []),
      ].join("\n");
    case "check-failed":
      return [`the built binding does not work: ${failure.message}`, ...(failure.logTail ? [indentOutput(failure.logTail)] : [])].join("\n");
    default:
      return unreachable(failure);
  }
}
