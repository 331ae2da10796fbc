/**
 * An object schema picked by its `kind`: `if kind == X then branch X`, so a wrong value
 * gets one error about `kind` (or about the branch), not every branch's complaints.
 */
export function byKind(description: string, branches: readonly Record<string, unknown>[]): Record<string, unknown> {
  const kinds = branches.map((branch) => ((branch["properties"] as Record<string, { const: string }>)["kind"] as { const: string }).const);
  return {
    description,
    type: "object",
    required: ["kind"],
    properties: { kind: { enum: kinds, description: `One of: ${kinds.join(", ")}` } },
    allOf: branches.map((branch) => {
      const kind = (branch["properties"] as Record<string, { const: string }>)["kind"] as { const: string };
      return { if: { properties: { kind: { const: kind.const } } }, then: branch };
    }),
  };
}
