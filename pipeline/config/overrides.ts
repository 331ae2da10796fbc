/**
 * `--set key.path=value` overrides, applied to the merged source tree.
 *
 * The value is YAML (`3e-5` is a number, `[1, 2]` a list, `'x'` a string) and its nodes
 * keep their position in the override text, so a diagnostic about an overridden value
 * points at the override (file `--set`). Missing maps on the way are created (the
 * schema then judges the keys), except that a path cannot go through a stage that does
 * not exist (`stages.finetune9.params.lr` is a typo; `stages.extra={uses: ...}` adds a
 * whole stage and is fine).
 */
import type { Diagnostic, SourceSpan } from "../failure.js";
import { didYouMean } from "./did-you-mean.js";
import { parseYaml } from "./parse-yaml.js";
import { SourceText, type MapNode, type TreeNode } from "./source-tree.js";

export const OVERRIDE_SOURCE = "--set";

export interface Segment {
  readonly name: string;
  readonly span: SourceSpan;
}

/** A value to put at a key path, parsed already (a `--set`, or one value of a sweep). */
export interface Assignment {
  readonly segments: readonly Segment[];
  readonly value: TreeNode;
}

/** With a null tree (the file could not be read), the overrides are only checked. */
export function applyOverrides(tree: TreeNode | null, overrides: readonly string[], diagnostics: Diagnostic[]): TreeNode | null {
  let result: TreeNode | null = tree;
  for (const text of overrides) {
    const override = parseOverride(text, diagnostics);
    if (override && result) result = applyOverride(result, override, diagnostics) ?? result;
  }
  return result;
}

/** Applies parsed assignments in order; a diagnostic about one points where its key was written. */
export function applyAssignments(tree: TreeNode, assignments: readonly Assignment[], diagnostics: Diagnostic[]): TreeNode {
  let result = tree;
  for (const assignment of assignments) result = applyOverride(result, assignment, diagnostics) ?? result;
  return result;
}

/**
 * `a.b.c` written at `start..end` of `source` -> its segments, each with its own span;
 * null (and a diagnostic) when a segment is empty.
 */
export function parseKeyPath(source: SourceText, start: number, end: number, diagnostics: Diagnostic[]): Segment[] | null {
  const text = source.text.slice(start, end);
  const segments: Segment[] = [];
  let offset = start;
  for (const name of text.split(".")) {
    const at = offset;
    offset += name.length + 1;
    if (name.trim() === "") {
      diagnostics.push({ span: source.span(at, at), file: source.file, keyPath: "", message: `empty key in \`${text}\`` });
      return null;
    }
    segments.push({ name: name.trim(), span: source.span(at, at + name.length) });
  }
  return segments;
}

function parseOverride(text: string, diagnostics: Diagnostic[]): Assignment | null {
  const source = new SourceText(OVERRIDE_SOURCE, text);
  const problem = (start: number, end: number, message: string, hints?: string[]): null => {
    diagnostics.push({ span: source.span(start, end), file: OVERRIDE_SOURCE, keyPath: "", message, ...(hints ? { hints } : {}) });
    return null;
  };
  const eq = text.indexOf("=");
  if (eq <= 0) {
    return problem(0, text.length, `expected \`key.path=value\`, found ${JSON.stringify(text)}`, [
      "for example: --set stages.train.params.lr=3e-4",
    ]);
  }
  const segments = parseKeyPath(source, 0, eq, diagnostics);
  if (!segments) return null;
  if (segments[0]?.name === "extends") {
    return problem(0, eq, "`extends` cannot be set from the command line");
  }
  const parsed = parseYaml(source, eq + 1);
  diagnostics.push(...parsed.diagnostics);
  return parsed.tree ? { segments, value: parsed.tree } : null;
}

/** The tree with the override applied, or null (and a diagnostic) when its path is impossible. */
function applyOverride(root: TreeNode, override: Assignment, diagnostics: Diagnostic[]): TreeNode | null {
  const { segments } = override;
  const problem = (depth: number, message: string, hints: string[] = []): null => {
    const segment = segments[depth];
    diagnostics.push({
      span: segment?.span ?? null,
      file: segment?.span.file ?? OVERRIDE_SOURCE,
      keyPath: segments
        .slice(0, depth + 1)
        .map((s) => s.name)
        .join("."),
      message,
      ...(hints.length > 0 ? { hints } : {}),
    });
    return null;
  };

  const set = (node: TreeNode, depth: number): TreeNode | null => {
    const segment = segments[depth];
    if (!segment) return override.value;
    const last = depth === segments.length - 1;
    const path = segments
      .slice(0, depth)
      .map((s) => s.name)
      .join(".");
    const where = path === "" ? "the document" : `\`${path}\``;
    switch (node.kind) {
      case "map": {
        const entry = node.entries.get(segment.name);
        if (!entry && !last && depth === 1 && segments[0]?.name === "stages") {
          const ids = [...node.entries.keys()];
          const hints = didYouMean(segment.name, ids);
          if (hints.length === 0) hints.push(ids.length > 0 ? `the stages are: ${ids.join(", ")}` : "the experiment has no stages");
          return problem(depth, `no stage \`${segment.name}\``, hints);
        }
        const below = entry?.value ?? emptyMap(segment.span);
        const value = set(below, depth + 1);
        if (!value) return null;
        const entries = new Map(node.entries);
        // A key written in the file stays located there; only a new key points at the override.
        entries.set(segment.name, { keySpan: entry?.keySpan ?? segment.span, value });
        return { ...node, entries };
      }
      case "seq": {
        const index = /^\d+$/.test(segment.name) ? Number(segment.name) : -1;
        const item = node.items[index];
        if (!item) {
          return problem(depth, `${where} is a list of ${node.items.length}; expected an index from 0 to ${node.items.length - 1}, found \`${segment.name}\``);
        }
        const value = set(item, depth + 1);
        if (!value) return null;
        const items = [...node.items];
        items[index] = value;
        return { ...node, items };
      }
      case "scalar":
        return problem(depth, `cannot set a key inside ${where}, which is ${node.value === null ? "null" : `${typeof node.value} ${JSON.stringify(node.value)}`}`);
    }
  };
  return set(root, 0);
}

function emptyMap(span: SourceSpan): MapNode {
  return { kind: "map", entries: new Map(), span };
}
