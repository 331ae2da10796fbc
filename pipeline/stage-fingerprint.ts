/** Builds a stage's Fingerprint from its config and the digests of what it reads. */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Fingerprint } from "./formats.js";
import { MuPipeError } from "./failure.js";
import type { GraphStage, StageGraph } from "./graph.js";
import type { ExternalInput } from "./stage.js";

export interface FingerprintSources {
  readonly seed: number;
  readonly baseDir: string;
  /** Content digest of the upstream artifact feeding each input, by upstream stage id. */
  artifactDigestOf(stageId: string): string;
  /** Content digest of a file or folder outside the store. */
  digestExternal(absPath: string): Promise<string>;
}

export async function fingerprintStage(stage: GraphStage, sources: FingerprintSources): Promise<Fingerprint> {
  const inputs: Record<string, string> = {};
  for (const input of stage.inputs) {
    // The whole upstream artifact stands for the output: outputs are folders inside it.
    inputs[input.name] = `${sources.artifactDigestOf(input.stage)}/${input.output}`;
  }
  const external: Record<string, string> = {};
  const connected = new Set(stage.inputs.map((input) => input.name));
  for (const entry of stage.type.externalInputs?.(stage.config.params, sources.baseDir, connected) ?? []) {
    const input: ExternalInput = typeof entry === "string" ? { path: entry, about: "" } : entry;
    external[input.key ?? externalKey(sources.baseDir, input.path)] = await digestOf(input, sources);
  }
  return {
    version: 2,
    stageType: stage.type.name,
    stageVersion: stage.type.version,
    params: stage.config.params,
    seed: stage.type.usesSeed ? sources.seed : null,
    inputs,
    external,
  };
}

/**
 * An external path as the fingerprint keys it: relative to the experiment file's
 * folder, `/`-separated, so moving the whole project keeps the key (see `Fingerprint`).
 */
export function externalKey(baseDir: string, absPath: string): string {
  const relative = path.relative(baseDir, absPath);
  // On Windows a path on another drive has no relative form; it stays absolute.
  return relative === "" ? "." : relative.split(path.sep).join("/");
}

async function digestOf(input: ExternalInput, sources: FingerprintSources): Promise<string> {
  try {
    return await sources.digestExternal(input.path);
  } catch (error) {
    if (!(error instanceof MuPipeError) || error.failure.reason !== "io") throw error;
    if (input.digestIfAbsent !== undefined && !existsSync(input.path)) return input.digestIfAbsent;
    // Say what the path is for: a bare "no such folder" does not tell which param to fix.
    if (input.about !== "") throw new MuPipeError({ ...error.failure, path: `${input.path} (${input.about})` });
    throw error;
  }
}

/** The fingerprint of a stage of `graph` whose upstream stages have the given artifact digests. */
export function fingerprintInGraph(
  graph: StageGraph,
  stage: GraphStage,
  digests: ReadonlyMap<string, string>,
  digestExternal: (absPath: string) => Promise<string>,
): Promise<Fingerprint> {
  return fingerprintStage(stage, {
    seed: graph.experiment.settings.seed,
    baseDir: graph.experiment.baseDir,
    artifactDigestOf: (id) => digests.get(id) ?? "",
    digestExternal,
  });
}
