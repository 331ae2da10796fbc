/** What run, status and dag share: read the experiment, build its graph, open its store. */
import path from "node:path";
import type { ExperimentConfig } from "../pipeline/config/experiment.js";
import { loadExperiment } from "../pipeline/config/load-experiment.js";
import { buildGraph, type StageGraph } from "../pipeline/graph.js";
import type { StageRegistry } from "../pipeline/registry.js";
import type { CommandIO } from "./command.js";
import { loadRegistry } from "./registry.js";

export interface ExperimentSession {
  readonly config: ExperimentConfig;
  readonly graph: StageGraph;
  readonly registry: StageRegistry;
}

export async function openExperiment(file: string, overrides: readonly string[], io: CommandIO): Promise<ExperimentSession> {
  const registry = await loadRegistry(io.env, io.cwd);
  const config = await loadExperiment(path.resolve(io.cwd, file), { overrides, registry, cwd: io.cwd });
  return { config, graph: buildGraph(config, registry), registry };
}
