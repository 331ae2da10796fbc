/**
 * `where`: a subset of items chosen by their attributes (the tensors' `attributes`,
 * e.g. `kind` from a load stage's `name_attributes`), as `{ kind: webcam }` or
 * `{ kind: [webcam, unityeyes], eye: L }`: an item matches when, for every key, its
 * value is one of those listed. The threshold stage pools only these items.
 */
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
    let without = 0;
    for (const item of candidates) {
      const value = item.attributes[key];
      if (value === undefined) without++;
      else counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    const values = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([value, n]) => `${value} (${n})`);
    if (without > 0) values.push(`no ${key} (${without})`);
    return `${key} there: ${values.length > 0 ? values.join(", ") : "none"}`;
  });
  return `no ${what} has ${describeWhere(where)} (${candidates.length} ${what}s; ${present.join("; ")})`;
}
