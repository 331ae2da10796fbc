/** The shipped experiments load and validate, and the published schema matches the stage types. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderExperimentSchema } from "../pipeline/config/experiment-schema.js";
import { loadExperiment } from "../pipeline/config/load-experiment.js";
import { buildGraph } from "../pipeline/graph.js";
import { builtinRegistry } from "../stages/registry.js";
import { repoRoot } from "./pipeline/engine-rig.js";

const registry = builtinRegistry();
const configsDir = path.join(repoRoot, "configs");

describe("configs/", async () => {
  const files = (await fs.readdir(configsDir)).filter((f) => f.endsWith(".yaml"));

  it.each(files)("%s is a valid experiment pointing at the published schema", async (file) => {
    const text = await fs.readFile(path.join(configsDir, file), "utf8");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=../schema/experiment.schema.json");
    const config = await loadExperiment(path.join(configsDir, file), { overrides: [], registry, cwd: repoRoot });
    expect(buildGraph(config, registry).stages.length).toBeGreaterThan(0);
  });

  it("schema/experiment.schema.json is up to date (regenerate: npx mu-pipe schema --out schema/experiment.schema.json)", async () => {
    const published = await fs.readFile(path.join(repoRoot, "schema/experiment.schema.json"), "utf8");
    expect(published).toBe(renderExperimentSchema(registry));
  });
});
