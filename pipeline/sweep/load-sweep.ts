/**
 * Experiment file + `--set` + `--sweep`/`--cv` -> every run of the sweep as a validated
 * config, or one `config-invalid` failure listing every problem of every combination
 * (each once, at its spot) before anything runs.
 */
import path from "node:path";
import { readExperimentTree } from "../config/extends-chain.js";
import type { ExperimentConfig } from "../config/experiment.js";
import { SWEEP_KEY } from "../config/experiment-schema.js";
import { loadExperiment } from "../config/load-experiment.js";
import { MuPipeError, type Diagnostic } from "../failure.js";
import type { StageRegistry } from "../registry.js";
import { expandSweep, type Combination, type SweptKey } from "./expand.js";
import { readSweepSpec, type SweepArguments } from "./sweep-spec.js";

export interface LoadSweepOptions extends SweepArguments {
  readonly overrides: readonly string[];
  readonly registry: StageRegistry;
  readonly cwd: string;
}

export interface SweepRun extends Combination {
  readonly config: ExperimentConfig;
}

export interface LoadedSweep {
  readonly keys: readonly SweptKey[];
  readonly runs: readonly SweepRun[];
}

/** Null when the experiment has no sweep (no `sweep:` section, no `--sweep` or `--cv`). */
export async function loadSweep(file: string, options: LoadSweepOptions): Promise<LoadedSweep | null> {
  const diagnostics: Diagnostic[] = [];
  const { tree } = await readExperimentTree(path.resolve(options.cwd, file), options.cwd, diagnostics);
  // A file that cannot be read or parsed: the ordinary loader reports it.
  if (!tree || tree.kind !== "map") return null;
  const spec = readSweepSpec(tree.entries.get(SWEEP_KEY)?.value, options, diagnostics);
  if (!spec) {
    if (diagnostics.length > 0) throw new MuPipeError({ reason: "config-invalid", diagnostics });
    return null;
  }

  const { keys, combinations } = expandSweep(spec);
  const runs: SweepRun[] = [];
  // Problems of the sweep itself first, then each combination's (the axes that were fine still expand).
  const problems = new Map<string, Diagnostic>();
  const add = (d: Diagnostic): void => void problems.set(JSON.stringify([d.span?.file, d.span?.start, d.keyPath, d.message]), d);
  diagnostics.forEach(add);
  for (const combination of combinations) {
    try {
      const config = await loadExperiment(file, { overrides: options.overrides, assignments: combination.assignments, registry: options.registry, cwd: options.cwd });
      runs.push({ ...combination, config });
    } catch (error) {
      if (!(error instanceof MuPipeError) || error.failure.reason !== "config-invalid") throw error;
      // A bad value shows up in every combination that uses it: report it once.
      error.failure.diagnostics.forEach(add);
    }
  }
  if (problems.size > 0) throw new MuPipeError({ reason: "config-invalid", diagnostics: inReadingOrder([...problems.values()]) });
  return { keys, runs };
}

/** By file (in order of first mention), then line and column. */
function inReadingOrder(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const files = [...new Set(diagnostics.map((d) => d.span?.file ?? d.file))];
  const rank = (d: Diagnostic): number => files.indexOf(d.span?.file ?? d.file);
  return [...diagnostics].sort(
    (a, b) => rank(a) - rank(b) || (a.span?.start.line ?? 0) - (b.span?.start.line ?? 0) || (a.span?.start.column ?? 0) - (b.span?.start.column ?? 0),
  );
}
