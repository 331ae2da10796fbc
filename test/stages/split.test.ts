import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkSplitFractions } from "../../stages/data/load-params.js";
import { assignSplits, defaultSplitBy, parseSplitCsv, parseSplitJson, splitCounts, type Splittable } from "../../stages/data/split.js";
import { runLoad, tempDir, writeBinaryMask, writeImage } from "./load-fixtures.js";

const fractions = { train: 0.8, val: 0.1, test: 0.1 };

function subjects(count: number, perSubject: (s: number) => number): Splittable[] {
  const items: Splittable[] = [];
  for (let s = 0; s < count; s++) for (let k = 0; k < perSubject(s); k++) items.push({ id: `s${s}_img${k}`, subject: `s${s}` });
  return items;
}

function tally(splits: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = { train: 0, val: 0, test: 0 };
  for (const split of splits.values()) counts[split] = (counts[split] ?? 0) + 1;
  return counts;
}

describe("assignSplits", () => {
  it("by image: exact counts, the same for the same seed, different for another", () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: `img${i}`, subject: null }));
    const a = assignSplits(items, fractions, "image", 42);
    expect(tally(a)).toEqual({ train: 800, val: 100, test: 100 });
    // Input order does not matter, only ids and seed.
    const b = assignSplits([...items].reverse(), fractions, "image", 42);
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    const c = assignSplits(items, fractions, "image", 43);
    expect([...c.entries()].sort()).not.toEqual([...a.entries()].sort());
  });

  it("by subject: no subject in two splits, fractions honoured approximately", () => {
    const items = subjects(100, (s) => 5 + (s % 7));
    const splits = assignSplits(items, fractions, "subject", 42);
    const splitOfSubject = new Map<string, string>();
    for (const item of items) {
      const split = splits.get(item.id) as string;
      const seen = splitOfSubject.get(item.subject as string);
      if (seen !== undefined) expect(split).toBe(seen);
      splitOfSubject.set(item.subject as string, split);
    }
    const counts = tally(splits);
    expect(Math.abs((counts["train"] ?? 0) / items.length - 0.8)).toBeLessThan(0.03);
    expect(Math.abs((counts["val"] ?? 0) / items.length - 0.1)).toBeLessThan(0.03);
    expect(Math.abs((counts["test"] ?? 0) / items.length - 0.1)).toBeLessThan(0.03);
    expect(assignSplits(items, fractions, "subject", 42)).toEqual(splits);
  });

  it("leaves a zero-fraction split empty and refuses subject splits without subjects", () => {
    const splits = assignSplits(subjects(10, () => 2), { train: 0.5, val: 0.5, test: 0 }, "subject", 1);
    expect(tally(splits)["test"]).toBe(0);
    expect(() => assignSplits([{ id: "x", subject: null }], fractions, "subject", 1)).toThrow(/item "x" has no subject/);
  });

  it("splits counts by largest remainder and picks the default unit", () => {
    expect(splitCounts(10, fractions)).toEqual({ train: 8, val: 1, test: 1 });
    // 5.6 / 0.7 / 0.7: the two largest remainders (val, test) get the spare items.
    expect(splitCounts(7, fractions)).toEqual({ train: 5, val: 1, test: 1 });
    expect(defaultSplitBy([{ id: "a", subject: "1" }])).toBe("subject");
    expect(defaultSplitBy([{ id: "a", subject: "1" }, { id: "b", subject: null }])).toBe("image");
  });

  it("rejects fractions that do not sum to 1, naming the values", () => {
    expect(() => checkSplitFractions({ train: 0.8, val: 0.2, test: 0.1 })).toThrow(
      "split fractions must sum to 1, got train 0.8 + val 0.2 + test 0.1 = 1.1",
    );
    expect(() => checkSplitFractions({ train: 0.7, val: 0.2, test: 0.1 })).not.toThrow();
  });
});

describe("split files", () => {
  it("parses JSON in both forms and CSV with or without a header", () => {
    expect(parseSplitJson('{"a": "train", "b": "test"}', "s.json")).toEqual(new Map([["a", "train"], ["b", "test"]]));
    expect(parseSplitJson('{"train": ["a"], "val": ["b"], "test": []}', "s.json")).toEqual(new Map([["a", "train"], ["b", "val"]]));
    expect(parseSplitCsv("id,split\na,train\r\nb, val\n\n", "s.csv")).toEqual(new Map([["a", "train"], ["b", "val"]]));
    expect(parseSplitCsv("a,test\n", "s.csv")).toEqual(new Map([["a", "test"]]));
  });

  it("reports bad lines and contradictions", () => {
    expect(() => parseSplitCsv("id,split\na,training\n", "s.csv")).toThrow(
      's.csv, line 2: expected "id,split" with split train, val or test, found "a,training"',
    );
    expect(() => parseSplitJson('{"a": "dev"}', "s.json")).toThrow('item "a" has split "dev"');
    expect(() => parseSplitJson('{"train": ["a"], "test": ["a"]}', "s.json")).toThrow('item "a" is in both train and test');
    expect(() => parseSplitJson("[1]", "s.json")).toThrow(/expected an object/);
  });
});

describe("load stage splits", () => {
  async function tree(count: number): Promise<string> {
    const base = await tempDir("split-stage");
    for (let i = 0; i < count; i++) {
      await writeImage(path.join(base, `img/e${i}.png`), { salt: i });
      await writeBinaryMask(path.join(base, `gt/e${i}.png`));
    }
    return base;
  }

  it("writes identical manifest bytes for the same seed", async () => {
    const base = await tree(20);
    const source = { kind: "folders" as const, images: "img", masks: "gt" };
    const a = await runLoad({ source }, { baseDir: base, seed: 5 });
    const b = await runLoad({ source }, { baseDir: base, seed: 5 });
    expect(b.manifestText).toBe(a.manifestText);
    expect(a.outcome?.metrics).toMatchObject({ items: 20, train: 16, val: 2, test: 2 });
    const c = await runLoad({ source }, { baseDir: base, seed: 6 });
    expect(c.manifest.items.map((i) => i.split)).not.toEqual(a.manifest.items.map((i) => i.split));
  });

  it("takes splits from a CSV file and fails naming the items it leaves out", async () => {
    const base = await tree(3);
    await writeFile(path.join(base, "splits.csv"), "id,split\ne0,test\ne1,val\ne2,train\nnot_an_item,train\n");
    const { manifest, report } = await runLoad({ source: { kind: "folders", images: "img", masks: "gt" }, split: { train: 0.8, val: 0.1, test: 0.1, file: "splits.csv" } }, { baseDir: base });
    expect(manifest.items.map((i) => [i.id, i.split])).toEqual([
      ["e0", "test"],
      ["e1", "val"],
      ["e2", "train"],
    ]);
    expect(report.splitBy).toBe("file");
    await writeFile(path.join(base, "partial.json"), '{"e0": "train"}');
    await expect(runLoad({ source: { kind: "folders", images: "img", masks: "gt" }, split: { train: 0.8, val: 0.1, test: 0.1, file: "partial.json" } }, { baseDir: base })).rejects.toThrow(
      `load: split file ${path.join(base, "partial.json")} does not assign 2 item(s): e1, e2`,
    );
  });

  it("fails before reading anything when fractions do not sum to 1", async () => {
    await expect(runLoad({ source: { kind: "folders", images: "nowhere", masks: "nowhere" }, split: { train: 0.5, val: 0.1, test: 0.1 } }, { baseDir: "/" })).rejects.toThrow(
      "split fractions must sum to 1, got train 0.5 + val 0.1 + test 0.1 = 0.7",
    );
  });

  it("keeps a seeded subset with limit", async () => {
    const base = await tree(10);
    const params = { source: { kind: "folders" as const, images: "img", masks: "gt" }, limit: 4 };
    const first = await runLoad(params, { baseDir: base, seed: 3 });
    expect(first.manifest.items).toHaveLength(4);
    expect(first.report.limitedOut).toBe(6);
    expect((await runLoad(params, { baseDir: base, seed: 3 })).manifestText).toBe(first.manifestText);
  });
});
