/** What `run` and `status` share for sweeps: the experiment's sweep, if it has one, loaded and checked. */
import path from "node:path";
import type { StageRegistry } from "../pipeline/registry.js";
import { loadSweep, type LoadedSweep } from "../pipeline/sweep/load-sweep.js";
import type { CommandIO } from "./command.js";
import { loadRegistry } from "./registry.js";

export interface SweepSession {
  readonly loaded: LoadedSweep;
  readonly registry: StageRegistry;
}

export interface SweepFlags {
  readonly set?: readonly string[];
  readonly sweep?: readonly string[];
  readonly cv?: readonly string[];
}

/** Null when the experiment has no `sweep:` and no `--sweep`/`--cv` was given: an ordinary run. */
export async function openSweep(file: string, flags: SweepFlags, io: CommandIO): Promise<SweepSession | null> {
  const registry = await loadRegistry(io.env, io.cwd);
  const loaded = await loadSweep(path.resolve(io.cwd, file), {
    overrides: flags.set ?? [],
    sweep: flags.sweep ?? [],
    cv: flags.cv ?? [],
    registry,
    cwd: io.cwd,
  });
  return loaded ? { loaded, registry } : null;
}
