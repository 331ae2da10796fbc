/**
 * YAML text -> source tree, keeping every node's position (see source-tree.ts).
 *
 * Syntax errors (with their position), unknown aliases and duplicate keys come back as
 * diagnostics. A text with syntax errors gives no tree: whatever the parser recovered
 * would only produce confusing follow-on errors. Duplicate keys are reported but not
 * fatal; the first occurrence wins.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from "yaml";
import type { Diagnostic } from "../failure.js";
import { SourceText, type MapEntry, type ScalarValue, type TreeNode } from "./source-tree.js";

export interface ParsedYaml {
  readonly tree: TreeNode | null;
  readonly diagnostics: Diagnostic[];
}

/**
 * Parses `source.text` from offset `start` to `end` (overrides parse only their value
 * part, so positions still count from the start of the whole override).
 */
export function parseYaml(source: SourceText, start = 0, end = source.text.length): ParsedYaml {
  const text = source.text.slice(start, end);
  const doc = parseDocument(text, { prettyErrors: false, keepSourceTokens: false });
  const diagnostics: Diagnostic[] = [];
  for (const error of doc.errors) {
    // Duplicate keys are reported below, where the whole key is known.
    if (error.code === "DUPLICATE_KEY") continue;
    const [from, to] = error.pos;
    diagnostics.push({ span: source.span(start + from, start + to), file: source.file, keyPath: "", message: yamlMessage(error.message) });
  }
  if (diagnostics.length > 0) return { tree: null, diagnostics };
  const converter = new Converter(source, start, doc, diagnostics);
  const tree = converter.convert(doc.contents, start + (doc.range[0] ?? 0), []);
  return { tree: converter.failed ? null : tree, diagnostics };
}

function yamlMessage(message: string): string {
  const trimmed = message.trim().replace(/\s+/g, " ");
  return trimmed.charAt(0).toLowerCase() + trimmed.slice(1);
}

class Converter {
  private readonly ancestors = new Set<YamlNode>();
  /** Whether a problem other than a duplicate key was found. */
  failed = false;

  constructor(
    private readonly source: SourceText,
    private readonly offset: number,
    private readonly doc: Document,
    private readonly diagnostics: Diagnostic[],
  ) {}

  /** `at` is where an empty value (no node at all) sits. */
  convert(node: unknown, at: number, path: readonly string[]): TreeNode {
    if (node === null || node === undefined) return { kind: "scalar", value: null, span: this.source.span(at, at) };
    if (isAlias(node)) return this.convertAlias(node, at, path);
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (this.ancestors.has(node)) return this.problem(node, path, "an alias cannot refer to the value that contains it");
      this.ancestors.add(node);
      try {
        return this.convertNode(node, path);
      } finally {
        this.ancestors.delete(node);
      }
    }
    return { kind: "scalar", value: null, span: this.source.span(at, at) };
  }

  private convertAlias(node: Extract<YamlNode, { source: string }>, at: number, path: readonly string[]): TreeNode {
    const target = node.resolve(this.doc);
    if (!target) return this.problem(node, path, `unknown alias \`*${node.source}\``);
    return this.convert(target, at, path);
  }

  private convertNode(node: YamlNode, path: readonly string[]): TreeNode {
    const span = this.spanOf(node);
    if (isScalar(node)) return { kind: "scalar", value: scalarValue(node.value), span };
    if (isSeq(node)) {
      const items = node.items.map((item, index) => {
        const itemPath = [...path, String(index)];
        return isPair(item) ? this.convertPairs([item], span, itemPath) : this.convert(item, this.end(node), itemPath);
      });
      return { kind: "seq", items, span };
    }
    if (isMap(node)) return this.convertPairs(node.items, span, path);
    return { kind: "scalar", value: null, span };
  }

  private convertPairs(pairs: readonly unknown[], span: TreeNode["span"], path: readonly string[]): TreeNode {
    const entries = new Map<string, MapEntry>();
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key;
      if (!isScalar(keyNode) || !keyNode.range) {
        if (isMap(keyNode) || isSeq(keyNode)) this.problem(keyNode, path, "keys must be plain names, not lists or maps");
        continue;
      }
      const keySpan = this.spanOf(keyNode);
      const key = typeof keyNode.value === "string" ? keyNode.value : this.textOf(keyNode);
      const valueAt = this.offset + (keyNode.range[2] ?? keyNode.range[1]);
      const value = this.convert(pair.value, valueAt, [...path, key]);
      const first = entries.get(key);
      if (first) {
        this.diagnostics.push({
          span: keySpan,
          file: this.source.file,
          keyPath: [...path, key].join("."),
          message: `duplicate key \`${key}\``,
          hints: [`the first \`${key}\` is on line ${first.keySpan.start.line}, and it is the one used`],
        });
      } else {
        entries.set(key, { keySpan, value });
      }
    }
    return { kind: "map", entries, span };
  }

  private problem(node: YamlNode, path: readonly string[], message: string): TreeNode {
    this.failed = true;
    const span = this.spanOf(node);
    this.diagnostics.push({ span, file: this.source.file, keyPath: path.join("."), message });
    return { kind: "scalar", value: null, span };
  }

  private spanOf(node: YamlNode): TreeNode["span"] {
    const range = node.range ?? [0, 0, 0];
    return this.source.span(this.offset + range[0], this.offset + range[1]);
  }

  private end(node: YamlNode): number {
    return this.offset + (node.range?.[1] ?? 0);
  }

  private textOf(node: YamlNode): string {
    const range = node.range ?? [0, 0, 0];
    return this.source.text.slice(this.offset + range[0], this.offset + range[1]);
  }
}

function scalarValue(value: unknown): ScalarValue {
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return Number(value);
  return String(value);
}
