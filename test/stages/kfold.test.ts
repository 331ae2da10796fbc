/** k-fold splits through the real load stage: subject-disjoint folds, every image tested exactly once. */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkSplitFractions } from "../../stages/data/load-params.js";
import { assignFolds } from "../../stages/data/split.js";
import type { DatasetManifest } from "../../stages/data/dataset-manifest.js";
import { EngineRig } from "../pipeline/engine-rig.js";
import { runLoad, tempDir, writeBinaryMask, writeImage } from "./load-fixtures.js";

const FOLDS = 5;

/** A MASD tree: 12 subjects with 1-4 photos each (30 photos). */
async function masdTree(): Promise<string> {
  const root = await tempDir("kfold");
  let salt = 0;
  for (let s = 1; s <= 12; s++) {
    for (let k = 0; k < 1 + (s % 4); k++) {
      await writeImage(path.join(root, `MASD/${s}/p${k}.jpg`), { salt: salt++ });
      await writeBinaryMask(path.join(root, `MASD_GT/${s}/p${k}.png`));
    }
  }
  return root;
}

describe("k-fold split in the load stage", () => {
  let root = "";
  beforeAll(async () => {
    root = await masdTree();
  });

  const load = (fold: number) =>
    runLoad({ source: { kind: "masd", root: "." }, split: { train: 0.8, val: 0.1, test: 0.1, folds: FOLDS, fold } }, { baseDir: root, seed: 7 });

  it("tests every image in exactly one fold, keeps each subject in one fold and never tests what it trains on", async () => {
    const runs = await Promise.all(Array.from({ length: FOLDS }, (_, fold) => load(fold)));
    const testedIn = new Map<string, number[]>();
    const foldOfSubject = new Map<string, number>();
    runs.forEach(({ manifest }, fold) => {
      expect(manifest.items).toHaveLength(30);
      const splitsOfSubject = new Map<string, Set<string>>();
      for (const item of manifest.items) {
        const subject = item.subject as string;
        splitsOfSubject.set(subject, (splitsOfSubject.get(subject) ?? new Set()).add(item.split));
        if (item.split !== "test") continue;
        testedIn.set(item.id, [...(testedIn.get(item.id) ?? []), fold]);
        if (foldOfSubject.has(subject)) expect(foldOfSubject.get(subject)).toBe(fold);
        foldOfSubject.set(subject, fold);
      }
      // No subject in two splits of one run: train, val and test are subject-disjoint.
      for (const splits of splitsOfSubject.values()) expect(splits.size).toBe(1);
      expect(manifest.items.some((i) => i.split === "train")).toBe(true);
      expect(manifest.items.some((i) => i.split === "val")).toBe(true);
    });
    expect(testedIn.size).toBe(30);
    for (const folds of testedIn.values()) expect(folds).toHaveLength(1);
    // 30 photos in 5 folds of whole subjects: every fold gets 6 (sizes 1-4 pack evenly here).
    expect(runs.map((r) => r.manifest.items.filter((i) => i.split === "test").length)).toEqual([6, 6, 6, 6, 6]);
  });

  it("gives the same folds for the same seed and different ones for another", () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ id: `img${i}`, subject: null }));
    const a = assignFolds(items, 5, "image", 1);
    expect(assignFolds([...items].reverse(), 5, "image", 1)).toEqual(a);
    expect([...assignFolds(items, 5, "image", 2).entries()].sort()).not.toEqual([...a.entries()].sort());
    expect([...a.values()].filter((f) => f === 0)).toHaveLength(10);
  });

  it("says which k-fold params do not fit together", () => {
    const base = { train: 0.8, val: 0.1, test: 0.1 };
    expect(() => checkSplitFractions({ ...base, fold: 1 })).toThrow("split.fold 1 needs split.folds (how many folds there are)");
    expect(() => checkSplitFractions({ ...base, folds: 5 })).toThrow("split.folds 5 needs split.fold (which of folds 0..4 is the test split)");
    expect(() => checkSplitFractions({ ...base, folds: 5, fold: 5 })).toThrow("split.fold must be below split.folds (0..4), got fold 5 of 5");
    expect(() => checkSplitFractions({ ...base, folds: 5, fold: 0, file: "s.csv" })).toThrow("split.folds and split.file cannot be used together");
  });
});

describe("cross-validation through mu-pipe run", () => {
  it("runs one load per fold with --cv, testing every item in exactly one of them", async () => {
    const rig = await EngineRig.create();
    await rig.write("cv.yaml", "experiment: cv\nstages:\n  load:\n    uses: load\n    params:\n      source: { kind: synthetic, count: 12, min_size: 32, max_size: 40 }\n");
    const result = await rig.cli("run", "cv.yaml", "--cv", "stages.load.params.split=3");
    expect(result.code, result.err + result.out).toBe(0);
    const runs = (await readdir(path.join(rig.dir, "runs"))).filter((name) => name.includes("[fold=")).sort();
    expect(runs.map((name) => name.replace(/^\d{8}T\d{6}Z-/, ""))).toEqual(["cv[fold=0]", "cv[fold=1]", "cv[fold=2]"]);
    const tested = await Promise.all(
      runs.map(async (name) => {
        const manifest = JSON.parse(await readFile(path.join(rig.dir, "runs", name, "artifacts/load/dataset/manifest.json"), "utf8")) as DatasetManifest;
        return manifest.items.filter((item) => item.split === "test").map((item) => item.id);
      }),
    );
    const all = tested.flat();
    expect(all).toHaveLength(12);
    expect(new Set(all).size).toBe(12);
    expect(tested.map((ids) => ids.length)).toEqual([4, 4, 4]);
    const shown = await rig.cli("sweep", "show", "--metric", "load.test");
    expect(shown.out.split("\n").slice(1)).toEqual(["  runs  status  load.test", "   3/3  ok          4 ± 0", ""]);
    await rig.cleanup();
  });
});
