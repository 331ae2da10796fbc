import type { StageType } from "./stage.js";

/** Stage types by `uses:` name. The CLI builds it from stages/; tests build toy ones. */
export type StageRegistry = ReadonlyMap<string, StageType>;

export function makeRegistry(types: readonly StageType[]): StageRegistry {
  const registry = new Map<string, StageType>();
  for (const type of types) {
    if (registry.has(type.name)) throw new Error(`stage type "${type.name}" is registered twice`);
    registry.set(type.name, type);
  }
  return registry;
}
