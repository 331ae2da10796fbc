/**
 * A YAML value that remembers where each part was written.
 *
 * Experiment files are merged (`extends:`) and patched (`--set`) before they are
 * validated, so a plain object would lose track of which file a value came from. The
 * loader therefore works on this tree: every node and every map key carries the span of
 * the text that produced it, in whichever file (or override) that was.
 */
import { LineCounter } from "yaml";
import type { SourcePosition, SourceSpan } from "../failure.js";

export type ScalarValue = string | number | boolean | null;

export interface ScalarNode {
  readonly kind: "scalar";
  readonly value: ScalarValue;
  readonly span: SourceSpan;
}

export interface SeqNode {
  readonly kind: "seq";
  readonly items: TreeNode[];
  readonly span: SourceSpan;
}

export interface MapEntry {
  readonly keySpan: SourceSpan;
  readonly value: TreeNode;
}

export interface MapNode {
  readonly kind: "map";
  /** Insertion order is file order (a Map keeps it even for keys like "1"). */
  readonly entries: Map<string, MapEntry>;
  readonly span: SourceSpan;
}

export type TreeNode = ScalarNode | SeqNode | MapNode;

export type KeyPath = readonly (string | number)[];

/** A source text with offset -> line/column lookup (the `yaml` package's LineCounter). */
export class SourceText {
  readonly lines = new LineCounter();

  constructor(
    /** Shown in diagnostics: a path relative to the current directory, or `--set`. */
    readonly file: string,
    readonly text: string,
  ) {
    this.lines.addNewLine(0);
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "\n") this.lines.addNewLine(i + 1);
    }
  }

  position(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  span(start: number, end: number): SourceSpan {
    return { file: this.file, start: this.position(start), end: this.position(Math.max(start, end)), text: this.text };
  }
}

/** The plain JSON-like value of a tree (what the schema validates and runs record). */
export function toPlain(node: TreeNode): unknown {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [key, entry] of node.entries) {
        // defineProperty, so a key named `__proto__` stays a key.
        Object.defineProperty(out, key, { value: toPlain(entry.value), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

/**
 * Merges `child` over `parent` (for `extends:`): maps merge key by key, recursively;
 * anything else in the child replaces the parent's value. Keys new in the child come
 * after the parent's, so a parent's stage order is kept.
 */
export function mergeTrees(parent: TreeNode, child: TreeNode): TreeNode {
  if (parent.kind !== "map" || child.kind !== "map") return child;
  const entries = new Map<string, MapEntry>();
  for (const [key, entry] of parent.entries) {
    const override = child.entries.get(key);
    entries.set(key, override ? { keySpan: override.keySpan, value: mergeTrees(entry.value, override.value) } : entry);
  }
  for (const [key, entry] of child.entries) {
    if (!parent.entries.has(key)) entries.set(key, entry);
  }
  return { kind: "map", entries, span: child.span };
}

export interface Found {
  /** The node at the deepest part of the path that exists. */
  readonly node: TreeNode;
  /** The span of the key that holds `node`, or null for the document root and list items. */
  readonly keySpan: SourceSpan | null;
  /** Whether the whole path exists (otherwise `node` is its nearest ancestor). */
  readonly exact: boolean;
}

export function findNode(root: TreeNode, keyPath: KeyPath): Found {
  let node = root;
  let keySpan: SourceSpan | null = null;
  for (const key of keyPath) {
    const next = child(node, key);
    if (!next) return { node, keySpan, exact: false };
    node = next.value;
    keySpan = next.keySpan;
  }
  return { node, keySpan, exact: true };
}

function child(node: TreeNode, key: string | number): { value: TreeNode; keySpan: SourceSpan | null } | null {
  if (node.kind === "map") return node.entries.get(String(key)) ?? null;
  if (node.kind === "seq") {
    const index = typeof key === "number" ? key : /^\d+$/.test(key) ? Number(key) : -1;
    const item = node.items[index];
    return item ? { value: item, keySpan: null } : null;
  }
  return null;
}

/**
 * The span a diagnostic about `found` should underline: the value when it sits on one
 * line (a scalar or a flow collection), else the key that introduces it.
 */
export function spanOfValue(found: Found): SourceSpan {
  const { node, keySpan } = found;
  if (!found.exact && keySpan) return keySpan;
  if (keySpan && node.span.start.line !== node.span.end.line) return keySpan;
  return node.span;
}

/** The span for "this map lacks a key" or "this key is wrong": the key when there is one. */
export function spanOfKey(found: Found): SourceSpan {
  return found.keySpan ?? found.node.span;
}

export function keyPathText(keyPath: KeyPath): string {
  return keyPath.join(".");
}
