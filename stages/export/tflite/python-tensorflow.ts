/**
 * Which TensorFlow the TFLite converter is: the package metadata (name, version) of the
 * `tensorflow` module that MU_PIPE_PYTHON imports. Its digest joins the export stage's
 * fingerprint, so upgrading TensorFlow in Python converts and checks the files again
 * instead of reusing ones the old converter wrote.
 *
 * Asked through Python's importlib.metadata, which reads files and imports no
 * TensorFlow (tens of milliseconds); answered once per process and Python.
 */
import { spawnSync } from "node:child_process";

import type { ExternalInput } from "../../../pipeline/stage.js";
import { pythonExecutable } from "./python-scripts.js";

/** Prints the METADATA file of the distribution that provides the `tensorflow` module, or nothing. */
const FIND_METADATA = `
import importlib.metadata as m
for name in m.packages_distributions().get("tensorflow", []):
    d = m.distribution(name)
    for f in d.files or []:
        if f.name == "METADATA" and f.parent.name.endswith(".dist-info"):
            print(d.locate_file(f))
            raise SystemExit(0)
`;

const found = new Map<string, string | null>();

/** The METADATA file of Python's TensorFlow, or null when that Python or its TensorFlow is missing. */
export function tensorflowMetadataFile(env: NodeJS.ProcessEnv = process.env): string | null {
  const python = pythonExecutable(env);
  if (!found.has(python)) {
    const result = spawnSync(python, ["-c", FIND_METADATA], { encoding: "utf8", timeout: 20_000 });
    const file = result.status === 0 ? result.stdout.trim() : "";
    found.set(python, file === "" ? null : file);
  }
  return found.get(python) ?? null;
}

/** The export stage's external input for the converter; none when there is no TensorFlow (the stage then fails saying so). */
export function converterInputs(env: NodeJS.ProcessEnv = process.env): ExternalInput[] {
  const file = tensorflowMetadataFile(env);
  return file === null ? [] : [{ path: file, about: `the TensorFlow package of ${pythonExecutable(env)} (its METADATA: name and version), which converts to TFLite`, key: "python-tensorflow:METADATA" }];
}
