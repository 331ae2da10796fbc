/** Balanced sampling's draws (finetune `sampling`): shares, repeats, determinism and the errors a user sees. */
import { describe, expect, test } from "vitest";

import { balanceMetrics, balancePlan, balancedEpochOrder, describeBalance, type BalanceItem } from "../../stages/train/balanced-order.js";

/** 90 renders then 10 webcam photos, as positions 0..89 and 90..99. */
function items(counts: Record<string, number> = { unityeyes: 90, webcam: 10 }): BalanceItem[] {
  return Object.entries(counts).flatMap(([kind, count]) => Array.from({ length: count }, (_, i) => ({ id: `${kind}_${i}`, attributes: { kind, source: "folders" } })));
}

const kindOf = (all: readonly BalanceItem[], position: number): string => all[position]?.attributes["kind"] ?? "?";

/** Share of draws per kind over `epochs` epochs of `all.length` draws. */
function shares(all: readonly BalanceItem[], weights: Record<string, number> | undefined, epochs: number): Record<string, number> {
  const plan = balancePlan(all, { balance_by: "kind", ...(weights ? { weights } : {}) });
  const counts: Record<string, number> = {};
  let total = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (const position of balancedEpochOrder(plan, all.length, 42, epoch)) {
      const kind = kindOf(all, position);
      counts[kind] = (counts[kind] ?? 0) + 1;
      total++;
    }
  }
  return Object.fromEntries(Object.entries(counts).map(([kind, n]) => [kind, n / total]));
}

describe("balanced epoch order", () => {
  test("equal shares by default: 10 webcam photos get half the draws of 100", () => {
    const result = shares(items(), undefined, 100);
    expect(result["webcam"]).toBeGreaterThan(0.48);
    expect(result["webcam"]).toBeLessThan(0.52);
  });

  test("weights set the shares: webcam 3, unityeyes 1 gives webcam three quarters", () => {
    const result = shares(items(), { webcam: 3, unityeyes: 1 }, 100);
    expect(result["webcam"]).toBeGreaterThan(0.73);
    expect(result["webcam"]).toBeLessThan(0.77);
  });

  test("an epoch draws as many items as there are (today's steps and batch sizes)", () => {
    const all = items();
    expect(balancedEpochOrder(balancePlan(all, { balance_by: "kind" }), all.length, 42, 1)).toHaveLength(100);
  });

  test("a small group repeats whole passes: each run of 10 webcam draws holds every webcam photo once", () => {
    const all = items();
    const order = balancedEpochOrder(balancePlan(all, { balance_by: "kind" }), all.length, 42, 1);
    const webcam = order.filter((p) => kindOf(all, p) === "webcam");
    expect(webcam.length).toBeGreaterThanOrEqual(40);
    for (let start = 0; start + 10 <= webcam.length; start += 10) {
      expect([...webcam.slice(start, start + 10)].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 90 + i));
    }
  });

  test("a large group is subsampled: no render is drawn twice in an epoch", () => {
    const all = items();
    const order = balancedEpochOrder(balancePlan(all, { balance_by: "kind" }), all.length, 42, 1);
    const renders = order.filter((p) => kindOf(all, p) === "unityeyes");
    expect(renders.length).toBeLessThan(90);
    expect(new Set(renders).size).toBe(renders.length);
  });

  test("reproducible from the seed and the epoch; another epoch or seed draws differently", () => {
    const all = items();
    const plan = balancePlan(all, { balance_by: "kind" });
    const first = balancedEpochOrder(plan, 100, 42, 3);
    expect(balancedEpochOrder(balancePlan(all, { balance_by: "kind" }), 100, 42, 3)).toEqual(first);
    expect(balancedEpochOrder(plan, 100, 42, 4)).not.toEqual(first);
    expect(balancedEpochOrder(plan, 100, 7, 3)).not.toEqual(first);
  });

  test("three groups, one of a single item", () => {
    const all = items({ a: 5, b: 1, c: 30 });
    const result = shares(all, undefined, 200);
    for (const kind of ["a", "b", "c"]) {
      expect(result[kind]).toBeGreaterThan(0.3);
      expect(result[kind]).toBeLessThan(0.37);
    }
  });
});

describe("log line and metrics", () => {
  test("the groups, their sizes, shares and how often an item comes per epoch", () => {
    const plan = balancePlan(items(), { balance_by: "kind", weights: { webcam: 1, unityeyes: 3 } });
    expect(describeBalance(plan, 100)).toBe(
      'sampling: balanced by "kind", 100 draws per epoch: unityeyes 90 items, share 0.75 (each item about 0.83x per epoch); webcam 10 items, share 0.25 (each item about 2.5x per epoch)',
    );
    expect(balanceMetrics(plan)).toEqual({
      balance_by: "kind",
      "balance_share.unityeyes": 0.75,
      "balance_items.unityeyes": 90,
      "balance_share.webcam": 0.25,
      "balance_items.webcam": 10,
    });
  });
});

describe("errors", () => {
  test("items without the attribute: how many, an example id, and the attributes every item has", () => {
    const all = [...items(), { id: "stray_7", attributes: { source: "folders" } }, { id: "stray_8", attributes: { source: "folders" } }];
    expect(() => balancePlan(all, { balance_by: "kind" })).toThrow(
      'sampling.balance_by: 2 of 102 training items have no attribute "kind" (e.g. "stray_7"), so they belong to no group; attributes every training item has: source',
    );
  });

  test("a weight for a value no item has lists the values present", () => {
    expect(() => balancePlan(items(), { balance_by: "kind", weights: { webcam: 2, unityeyes: 1, synthetic: 1 } })).toThrow(
      'sampling.weights names "synthetic", which no training item has as its "kind"; the values present: unityeyes (90 items), webcam (10 items)',
    );
  });

  test("a value present without a weight, when weights are given", () => {
    expect(() => balancePlan(items(), { balance_by: "kind", weights: { webcam: 2 } })).toThrow(
      'sampling.weights gives no weight to "unityeyes"; with weights, every value of "kind" needs one; the values present: unityeyes (90 items), webcam (10 items)',
    );
  });

  test("a weight that is not above 0", () => {
    expect(() => balancePlan(items(), { balance_by: "kind", weights: { webcam: 0, unityeyes: 1 } })).toThrow('the weight of "webcam" must be a number above 0, got 0');
  });
});
