/**
 * Attribute-balanced training order (finetune's `sampling` param): which training items
 * fill an epoch's batch slots when the items fall into groups of very different sizes
 * (890 renders and 100 real photos) and the small group should not be drowned.
 *
 * An epoch keeps its number of draws (one per training item, so the steps and batch
 * sizes are today's). Each draw picks a group with probability proportional to its
 * weight, then that group's next item from a seeded shuffle of the group, reshuffled
 * when used up: a small group repeats, a large one is subsampled. The order is a pure
 * function of the items, the params, the seed and the epoch, so a resumed run draws
 * what an uninterrupted one would have drawn.
 */
import { derivedSeed, makeRandom, shuffled } from "../data/split.js";
import type { Metrics } from "../../pipeline/stage.js";
import { BALANCE_METRICS, type SamplingParams } from "./finetune-params.js";

export interface BalanceItem {
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface SamplingGroup {
  /** The attribute value the group's items share. */
  readonly value: string;
  /** Positions of the group's items among the training items, in item order. */
  readonly positions: readonly number[];
  /** Expected fraction of the draws: weight / sum of weights. */
  readonly share: number;
}

export interface BalancePlan {
  readonly attribute: string;
  /** Sorted by value. */
  readonly groups: readonly SamplingGroup[];
}

/** The items or the weights do not fit `sampling`; the message says what to change. */
export class SamplingError extends Error {
  override name = "SamplingError";
}

/** Groups the training items by `params.balance_by` and gives each group its share; throws a SamplingError on a bad fit. */
export function balancePlan(items: readonly BalanceItem[], params: SamplingParams): BalancePlan {
  const attribute = params.balance_by;
  if (items.length === 0) throw new SamplingError("sampling: there are no training items to balance");
  const missing = items.filter((item) => item.attributes[attribute] === undefined);
  if (missing.length > 0) {
    const common = attributesOnEvery(items);
    throw new SamplingError(
      `sampling.balance_by: ${missing.length} of ${items.length} training items have no attribute "${attribute}" (e.g. "${missing[0]?.id}"), ` +
        `so they belong to no group; ${common.length > 0 ? `attributes every training item has: ${common.join(", ")}` : "no attribute is on every training item"}`,
    );
  }

  const byValue = new Map<string, number[]>();
  items.forEach((item, position) => {
    const value = item.attributes[attribute] as string;
    const list = byValue.get(value);
    if (list) list.push(position);
    else byValue.set(value, [position]);
  });
  const values = [...byValue.keys()].sort();
  const weights = params.weights;
  const problem = weightsProblem(attribute, values.map((value) => [value, byValue.get(value)?.length ?? 0]), weights, "items");
  if (problem !== null) throw new SamplingError(problem);
  const weightOf = (value: string): number => weights?.[value] ?? 1;
  const total = values.reduce((sum, value) => sum + weightOf(value), 0);
  return {
    attribute,
    groups: values.map((value) => ({ value, positions: byValue.get(value) ?? [], share: weightOf(value) / total })),
  };
}

/**
 * What is wrong with `weights` for the values of `attribute` the training items have
 * (`present`: value and how many `unit`), or null. Also checked before training, from
 * the dataset facts (finetune-preflight.ts).
 */
export function weightsProblem(attribute: string, present: readonly (readonly [string, number])[], weights: SamplingParams["weights"], unit: string): string | null {
  if (weights === undefined) return null;
  const values = present.map(([value]) => value);
  const listed = present.map(([value, n]) => `${value} (${n} ${unit})`).join(", ");
  const unknown = Object.keys(weights).filter((value) => !values.includes(value)).sort();
  if (unknown.length > 0) return `sampling.weights names ${quoted(unknown)}, which no training item has as its "${attribute}"; the values present: ${listed}`;
  const unweighted = values.filter((value) => weights[value] === undefined);
  if (unweighted.length > 0) return `sampling.weights gives no weight to ${quoted(unweighted)}; with weights, every value of "${attribute}" needs one; the values present: ${listed}`;
  const bad = values.filter((value) => !(Number.isFinite(weights[value]) && (weights[value] as number) > 0));
  if (bad.length > 0) return `sampling.weights: the weight of ${quoted(bad)} must be a number above 0, got ${bad.map((v) => weights[v]).join(", ")}`;
  return null;
}

/**
 * `draws` positions (indices into the training items) for `epoch`, in the order they
 * are drawn; batchPositions cuts them into batches.
 */
export function balancedEpochOrder(plan: BalancePlan, draws: number, seed: number, epoch: number): number[] {
  const pick = makeRandom(derivedSeed(seed, `finetune:balance:${epoch}`));
  const streams = plan.groups.map((group) => groupStream(group.positions, makeRandom(derivedSeed(seed, `finetune:balance:${epoch}:${group.value}`))));
  const bounds: number[] = [];
  let cumulative = 0;
  for (const group of plan.groups) bounds.push((cumulative += group.share));
  const order: number[] = [];
  for (let draw = 0; draw < draws; draw++) {
    const r = pick() * cumulative;
    const index = bounds.findIndex((bound) => r < bound);
    // Rounding can leave r at the very top: it belongs to the last group.
    const stream = streams[index === -1 ? streams.length - 1 : index];
    if (stream === undefined) throw new SamplingError("sampling: there are no groups to draw from");
    order.push(stream());
  }
  return order;
}

/** One line for the stage log: each group, its size, its share and how often an item comes per epoch. */
export function describeBalance(plan: BalancePlan, draws: number): string {
  const groups = plan.groups.map((group) => {
    const perItem = (group.share * draws) / group.positions.length;
    return `${group.value} ${group.positions.length} items, share ${round(group.share, 3)} (each item about ${round(perItem, 2)}x per epoch)`;
  });
  return `sampling: balanced by "${plan.attribute}", ${draws} draws per epoch: ${groups.join("; ")}`;
}

/** The plan as flat metrics (BALANCE_METRICS): the report's table of groups and shares. */
export function balanceMetrics(plan: BalancePlan): Metrics {
  const metrics: Metrics = { [BALANCE_METRICS.by]: plan.attribute };
  for (const group of plan.groups) {
    metrics[`${BALANCE_METRICS.share}${group.value}`] = round(group.share, 4);
    metrics[`${BALANCE_METRICS.items}${group.value}`] = group.positions.length;
  }
  return metrics;
}

/** The group's positions in a seeded shuffle, reshuffled each time they are used up. */
function groupStream(positions: readonly number[], random: () => number): () => number {
  let order: number[] = [];
  let next = 0;
  return () => {
    if (next >= order.length) {
      order = shuffled(positions, random);
      next = 0;
    }
    return order[next++] as number;
  };
}

function attributesOnEvery(items: readonly BalanceItem[]): string[] {
  const [first, ...rest] = items;
  if (first === undefined) return [];
  return Object.keys(first.attributes)
    .filter((key) => rest.every((item) => item.attributes[key] !== undefined))
    .sort();
}

function quoted(values: readonly string[]): string {
  return values.map((value) => `"${value}"`).join(", ");
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
