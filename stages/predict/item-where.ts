/**
 * `where`: a subset of items chosen by their attributes (the tensors' `attributes`,
 * e.g. `kind` from a load stage's `name_attributes`), as `{ kind: webcam }` or
 * `{ kind: [webcam, unityeyes], eye: L }`: an item matches when, for every key, its
 * value is one of those listed. The threshold stage pools only these items.
 */
import type { PreflightProblem } from "../../pipeline/stage.js";
import { attributeValuesIn, type DatasetFacts } from "../data/dataset-facts.js";
import type { Split } from "../data/dataset-manifest.js";
import type { TensorItem } from "../data/tensor-shards.js";

/** Attribute -> the value, or values, an item must have. */
export type Where = Readonly<Record<string, string | readonly string[]>>;

export const whereParamSchema = {
  type: "object",
  minProperties: 1,
  propertyNames: { minLength: 1 },
  // One schema for both forms (string keywords apply to strings, array ones to lists), so a wrong value gets one error.
  additionalProperties: { type: ["string", "array"], minLength: 1, items: { type: "string", minLength: 1 }, minItems: 1, uniqueItems: true },
  description: "Pool only the items whose attributes have these values (attribute -> value or list of values), e.g. { kind: webcam }",
} as const;

/** Each key's accepted values as a list. */
export function whereLists(where: Where): Record<string, string[]> {
  return Object.fromEntries(Object.entries(where).map(([key, value]) => [key, typeof value === "string" ? [value] : [...value]]));
}

/** Whether `item` has, for every key of `where`, one of its values. */
export function matchesWhere(where: Where): (item: Pick<TensorItem, "attributes">) => boolean {
  const lists = Object.entries(whereLists(where));
  return (item) => lists.every(([key, values]) => {
    const value = item.attributes[key];
    return value !== undefined && values.includes(value);
  });
}

/** `kind webcam`, `kind webcam|unityeyes and eye L`. */
export function describeWhere(where: Where): string {
  return Object.entries(whereLists(where))
    .map(([key, values]) => `${key} ${values.join("|")}`)
    .join(" and ");
}

/**
 * Why no item of `candidates` (described by `what`, e.g. "original train image")
 * matches: what was asked and, for each key, the values the candidates have.
 */
export function noMatchMessage(where: Where, candidates: readonly Pick<TensorItem, "attributes">[], what: string): string {
  const present = Object.keys(where).map((key) => {
    const counts = new Map<string, number>();
    for (const item of candidates) {
      const value = item.attributes[key];
      if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    return { key, values: [...counts] };
  });
  return noMatchWording(where, candidates.length, present, what);
}

/**
 * The words of noMatchMessage from counts: `total` candidates, and for each key of
 * `where` the values they have with how many have each (the rest have no such key).
 */
export function noMatchWording(where: Where, total: number, present: readonly { key: string; values: readonly (readonly [string, number])[] }[], what: string): string {
  const lines = present.map(({ key, values }) => {
    const listed = [...values].sort(([a], [b]) => a.localeCompare(b)).map(([value, n]) => `${value} (${n})`);
    const without = total - values.reduce((sum, [, n]) => sum + n, 0);
    if (without > 0) listed.push(`no ${key} (${without})`);
    return `${key} there: ${listed.length > 0 ? listed.join(", ") : "none"}`;
  });
  return `no ${what} has ${describeWhere(where)} (${total} ${what}s; ${lines.join("; ")})`;
}

/**
 * `where` checked against the dataset facts before the stage runs: a key whose listed
 * values no original item of `split` has (or an attribute no item has) means nothing
 * matches. Keys whose values are not counted (too many) are not checked.
 */
export function whereProblems(d: DatasetFacts, where: Where, split: Split, stageId: string): PreflightProblem[] {
  const attributes = d.attributes;
  if (attributes === null) return [];
  const present: { key: string; values: [string, number][] }[] = [];
  let matchesNothing = false;
  for (const [key, wanted] of Object.entries(whereLists(where))) {
    const values = attributes.names.includes(key) ? attributeValuesIn(attributes, key, split) : [];
    if (values === null) continue;
    present.push({ key, values });
    if (!values.some(([value]) => wanted.includes(value))) matchesNothing = true;
  }
  if (!matchesNothing) return [];
  return [
    {
      keyPath: `stages.${stageId}.params.where`,
      message: `params.where: ${noMatchWording(where, d.originals[split], present, `original ${split} image`)}`,
      hints: ["change params.where (or params.split)"],
    },
  ];
}
