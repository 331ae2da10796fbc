/**
 * The ESLint rules that keep the layers one-way and forbid import cycles really fire:
 * probe modules are linted with the repository's own eslint.config.js, as if they sat
 * in pipeline/ and stages/ (the cycle probe is written there, then removed).
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ESLint } from "eslint";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = path.resolve(import.meta.dirname, "..");
const eslint = new ESLint({ cwd: repoRoot });

async function problems(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? "fatal"}: ${m.message}`);
}

const probeDir = path.join(repoRoot, "stages", `zz-lint-probe-${process.pid}`);
afterAll(() => rm(probeDir, { recursive: true, force: true }));

describe("layer rules", () => {
  it("forbids pipeline/ to import stages/ or cli/, and stages/ to import cli/", async () => {
    expect(await problems('import { builtinStageTypes } from "../stages/registry.js";\nexport const n = builtinStageTypes.length;\n', "pipeline/zz-probe.ts")).toEqual([
      'import-x/no-restricted-paths: Unexpected path "../stages/registry.js" imported in restricted zone. pipeline/ is the engine: it must not know the stages (they register through the StageRegistry).',
    ]);
    expect(await problems('export const load = () => import("../cli/main.js");\n', "pipeline/zz-probe.ts")).toEqual([
      'import-x/no-restricted-paths: Unexpected path "../cli/main.js" imported in restricted zone. pipeline/ must not import the CLI: the CLI drives the engine, not the other way round.',
    ]);
    expect(await problems('import { main } from "../../cli/main.js";\nexport const m = main;\n', "stages/eval/zz-probe.ts")).toEqual([
      'import-x/no-restricted-paths: Unexpected path "../../cli/main.js" imported in restricted zone. stages/ must not import the CLI: stages return values and throw typed errors; only the CLI prints.',
    ]);
  });

  it("lets stages/ and cli/ import the engine", async () => {
    expect(await problems('import { defineStageType } from "../../pipeline/stage.js";\nexport const d = defineStageType;\n', "stages/eval/zz-probe.ts")).toEqual([]);
    expect(await problems('import { builtinStageTypes } from "../stages/registry.js";\nexport const n = builtinStageTypes.length;\n', "cli/zz-probe.ts")).toEqual([]);
  });

  it("forbids import cycles, dynamic imports included", async () => {
    await mkdir(probeDir, { recursive: true });
    const stage = 'export const run = async () => (await import("./runner.js")).work;\nexport const name = "probe";\n';
    const runner = 'import { name } from "./stage.js";\nexport const work = () => name;\n';
    await writeFile(path.join(probeDir, "stage.ts"), stage);
    await writeFile(path.join(probeDir, "runner.ts"), runner);
    expect(await problems(runner, path.relative(repoRoot, path.join(probeDir, "runner.ts")))).toEqual(["import-x/no-cycle: Dependency cycle detected"]);
  });
});
