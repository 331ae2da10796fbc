/** Builds a stage's Fingerprint from its config and the digests of what it reads. */
import type { Fingerprint } from "./formats.js";
import { MuPipeError } from "./failure.js";
import type { GraphStage, StageGraph } from "./graph.js";

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
  for (const entry of stage.type.externalInputs?.(stage.config.params, sources.baseDir) ?? []) {
    const file = typeof entry === "string" ? entry : entry.path;
    try {
      external[file] = await sources.digestExternal(file);
    } catch (error) {
      // Say what the path is for: a bare "no such folder" does not tell which param to fix.
      if (typeof entry !== "string" && error instanceof MuPipeError && error.failure.reason === "io") {
        throw new MuPipeError({ ...error.failure, path: `${file} (${entry.about})` });
      }
      throw error;
    }
  }
  return {
    version: 1,
    stageType: stage.type.name,
    stageVersion: stage.type.version,
    params: stage.config.params,
    seed: stage.type.usesSeed ? sources.seed : null,
    inputs,
    external,
  };
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
