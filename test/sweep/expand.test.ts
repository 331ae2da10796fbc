/** Sweep expansion: the runs a `sweep:` section and `--sweep`/`--cv` make, and their names. */
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../pipeline/failure.js";
import { parseYaml } from "../../pipeline/config/parse-yaml.js";
import { SourceText, type TreeNode } from "../../pipeline/config/source-tree.js";
import { expandSweep, shortestUniqueSuffixes } from "../../pipeline/sweep/expand.js";
import { readSweepSpec } from "../../pipeline/sweep/sweep-spec.js";

function sweepOf(yaml: string, args: { sweep?: string[]; cv?: string[] } = {}) {
  const tree = parseYaml(new SourceText("x.yaml", yaml)).tree as TreeNode;
  const section = tree.kind === "map" ? tree.entries.get("sweep")?.value : undefined;
  const diagnostics: Diagnostic[] = [];
  const spec = readSweepSpec(section, { sweep: args.sweep ?? [], cv: args.cv ?? [] }, diagnostics);
  return { spec, diagnostics, expansion: spec ? expandSweep(spec) : null };
}

const keyPaths = (assignments: readonly { segments: readonly { name: string }[] }[]) => assignments.map((a) => a.segments.map((s) => s.name).join("."));

describe("sweep expansion", () => {
  it("runs the cartesian product, the first key varying slowest, named by last segments and values as written", () => {
    const { expansion, diagnostics } = sweepOf(["sweep:", "  stages.finetune2.params.optimizer.lr: [1e-3, 1e-4]", "  stages.finetune2.params.loss: [dice, dice_bce]", ""].join("\n"));
    expect(diagnostics).toEqual([]);
    expect(expansion?.combinations.map((c) => c.label)).toEqual(["lr=1e-3,loss=dice", "lr=1e-3,loss=dice_bce", "lr=1e-4,loss=dice", "lr=1e-4,loss=dice_bce"]);
    expect(expansion?.combinations[1]?.values).toEqual({ "stages.finetune2.params.optimizer.lr": 0.001, "stages.finetune2.params.loss": "dice_bce" });
    expect(keyPaths(expansion?.combinations[1]?.assignments ?? [])).toEqual(["stages.finetune2.params.optimizer.lr", "stages.finetune2.params.loss"]);
  });

  it("crosses include combinations with the other axes", () => {
    const { expansion } = sweepOf(
      [
        "sweep:",
        "  include:",
        "    - { stages.a.params.lr: 0.1, stages.a.params.epochs: 2 }",
        "    - { stages.a.params.lr: 0.01 }",
        "  settings.seed: [1, 2]",
        "",
      ].join("\n"),
    );
    expect(expansion?.combinations.map((c) => c.label)).toEqual(["lr=0.1,epochs=2,seed=1", "lr=0.1,epochs=2,seed=2", "lr=0.01,seed=1", "lr=0.01,seed=2"]);
    expect(expansion?.keys.map((k) => [k.short, k.repeat])).toEqual([
      ["lr", false],
      ["epochs", false],
      ["seed", true],
    ]);
  });

  it("expands cv into K folds of the named param object, setting its folds in every run", () => {
    const { expansion } = sweepOf("sweep:\n  stages.b.params.loss: [dice]\n  cv: { param: stages.load.params.split, folds: 3 }\n");
    expect(expansion?.combinations.map((c) => c.label)).toEqual(["loss=dice,fold=0", "loss=dice,fold=1", "loss=dice,fold=2"]);
    const last = expansion?.combinations[2];
    expect(keyPaths(last?.assignments ?? [])).toEqual(["stages.load.params.split.folds", "stages.b.params.loss", "stages.load.params.split.fold"]);
    expect(last?.values).toEqual({ "stages.b.params.loss": "dice", "stages.load.params.split.fold": 2 });
    expect(expansion?.keys.find((k) => k.short === "fold")?.repeat).toBe(true);
  });

  it("takes --sweep and --cv from the command line, a --sweep key replacing the file's", () => {
    const { expansion, diagnostics } = sweepOf("sweep:\n  stages.b.params.loss: [dice]\n", {
      sweep: ["stages.b.params.loss=dice,dice_bce", "stages.b.params.sizes=[[1, 2], [3]]"],
      cv: ["stages.load.params.split=2"],
    });
    expect(diagnostics).toEqual([]);
    expect(expansion?.combinations.map((c) => c.label)).toEqual([
      "loss=dice,sizes=(1,2),fold=0",
      "loss=dice,sizes=(1,2),fold=1",
      "loss=dice,sizes=(3),fold=0",
      "loss=dice,sizes=(3),fold=1",
      "loss=dice_bce,sizes=(1,2),fold=0",
      "loss=dice_bce,sizes=(1,2),fold=1",
      "loss=dice_bce,sizes=(3),fold=0",
      "loss=dice_bce,sizes=(3),fold=1",
    ]);
  });

  it("keeps names unique: paths that share a last segment keep as many segments as tell them apart", () => {
    expect(shortestUniqueSuffixes(["stages.finetune1.params.lr", "stages.finetune2.params.lr", "settings.seed"])).toEqual(["finetune1.params.lr", "finetune2.params.lr", "seed"]);
    const { expansion } = sweepOf("sweep:\n  include:\n    - { stages.a.params.lr: 1 }\n    - { stages.a.params.lr: 1 }\n");
    expect(expansion?.combinations.map((c) => c.label)).toEqual(["lr=1", "lr=1,#2"]);
  });

  it("has no sweep without a section or arguments, and reports a malformed one at its spot", () => {
    expect(sweepOf("experiment: x\n").spec).toBeNull();
    const { diagnostics } = sweepOf("sweep:\n  stages.a.params.lr: 0.1\n  cv: { param: stages.load.params.split, folds: 1 }\n");
    expect(diagnostics.map((d) => [d.span?.start.line, d.keyPath, d.message])).toEqual([
      [2, "sweep.stages.a.params.lr", "expected a list of values, found number 0.1"],
      [3, "sweep.cv.folds", "expected a whole number of folds, 2 or more, found number 1"],
    ]);
  });
});
