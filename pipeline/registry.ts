import type { StageType } from "./stage.js";

/**
 * The runtime choices an experiment's `settings.runtime` offers. The stages' runtime
 * defines them and hands them over with the stage types: the engine names no backend.
 */
export interface RuntimeChoices {
  /** The values `settings.runtime.backend` accepts. */
  readonly backends: readonly string[];
  /** The value used when the file sets none; one of `backends`. */
  readonly defaultBackend: string;
  /** What the choice means, for the schema's description of `settings.runtime.backend`. */
  readonly backendDescription: string;
  /** What `settings.runtime.threads` sets on each backend, for the schema's description. */
  readonly threadsDescription: string;
}

/** Stage types by `uses:` name, with the runtime choices. The CLI builds it from stages/; tests build toy ones. */
export interface StageRegistry extends ReadonlyMap<string, StageType> {
  readonly runtime: RuntimeChoices;
}

export function makeRegistry(types: readonly StageType[], runtime: RuntimeChoices): StageRegistry {
  if (!runtime.backends.includes(runtime.defaultBackend)) {
    throw new Error(`the default backend "${runtime.defaultBackend}" is not one of the backends (${runtime.backends.join(", ")})`);
  }
  const registry = new Map<string, StageType>();
  for (const type of types) {
    if (registry.has(type.name)) throw new Error(`stage type "${type.name}" is registered twice`);
    registry.set(type.name, type);
  }
  return Object.assign(registry, { runtime });
}
