/**
 * The stage types a command can use: the built-in ones from stages/, plus any from
 * modules named in MU_PIPE_PLUGINS (paths separated like PATH), each exporting
 * `stageTypes: StageType[]`. Tests use plugins for toy stage types; users can add
 * their own stages the same way.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { MuPipeError } from "../pipeline/failure.js";
import type { StageRegistry } from "../pipeline/registry.js";
import type { StageType } from "../pipeline/stage.js";
import { builtinRegistry } from "../stages/registry.js";

export async function loadRegistry(env: NodeJS.ProcessEnv, cwd: string): Promise<StageRegistry> {
  const types: StageType[] = [];
  for (const entry of (env.MU_PIPE_PLUGINS ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.resolve(cwd, entry);
    let module: { stageTypes?: unknown };
    try {
      module = (await import(pathToFileURL(file).href)) as { stageTypes?: unknown };
    } catch (error) {
      throw new MuPipeError({ reason: "io", path: file, message: `cannot load plugin from MU_PIPE_PLUGINS: ${error instanceof Error ? error.message : String(error)}` });
    }
    if (!Array.isArray(module.stageTypes)) {
      throw new MuPipeError({ reason: "io", path: file, message: "a plugin module must export `stageTypes`, an array of stage types" });
    }
    types.push(...(module.stageTypes as StageType[]));
  }
  return builtinRegistry(types);
}
