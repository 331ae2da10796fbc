/**
 * A sweep as written: the experiment's `sweep:` section and the command line's
 * `--sweep key=v1,v2` and `--cv key=K`, turned into axes of located values.
 *
 *     sweep:
 *       stages.finetune2.params.loss: [dice, dice_bce]    # an axis: one run per value
 *       include:                                          # or explicit combinations
 *         - { stages.finetune2.params.optimizer.lr: 1e-3, stages.finetune1.params.epochs: 2 }
 *       cv: { param: stages.load.params.split, folds: 5 } # `<param>.folds: 5`, `<param>.fold` over 0..4
 *
 * The engine knows no param by name: `cv` names the param object that takes `folds`
 * and `fold`. Axes whose values are repeats of one setup (a `fold`, or `settings.seed`)
 * are marked, so results average over them instead of giving each its own row.
 * Every problem is a diagnostic at the spot, like a bad `--set`.
 */
import type { Diagnostic, SourceSpan } from "../failure.js";
import { parseKeyPath, type Assignment, type Segment } from "../config/overrides.js";
import { parseYaml } from "../config/parse-yaml.js";
import { SourceText, toPlain, type TreeNode } from "../config/source-tree.js";

export const SWEEP_SOURCE = "--sweep";
export const CV_SOURCE = "--cv";

export interface SweepAxis {
  /** The param path as `--set` takes it, e.g. `stages.finetune2.params.optimizer.lr`. */
  readonly key: string;
  readonly segments: readonly Segment[];
  readonly values: readonly TreeNode[];
  /** Repeats of one setup (folds, seeds): results give their mean ± std, not a row each. */
  readonly repeat: boolean;
}

export interface SweepSpec {
  readonly axes: readonly SweepAxis[];
  /** `include:` combinations, each crossed with the axes; null without `include`. */
  readonly include: readonly (readonly Assignment[])[] | null;
  /** Set in every run (cv's `<param>.folds`). */
  readonly fixed: readonly Assignment[];
}

export interface SweepArguments {
  /** `--sweep key=v1,v2` (or `key=[v1, v2]`), repeatable. */
  readonly sweep: readonly string[];
  /** `--cv key=K`: K folds over the param object at key. */
  readonly cv: readonly string[];
}

/** Whether a param path is a repeat of one setup rather than a choice: folds and seeds. */
export function isRepeatKey(key: string): boolean {
  return key === "settings.seed" || key.endsWith(".fold");
}

/** The sweep of `section` (the file's `sweep:` node, or undefined) with the command line's axes over it; null when there is none. */
export function readSweepSpec(section: TreeNode | undefined, args: SweepArguments, diagnostics: Diagnostic[]): SweepSpec | null {
  if (!section && args.sweep.length === 0 && args.cv.length === 0) return null;
  const axes = new Map<string, SweepAxis>();
  let include: Assignment[][] | null = null;
  let cv: { segments: Segment[]; folds: number; span: SourceSpan } | null = null;
  const problem = (span: SourceSpan, keyPath: string, message: string, hints?: string[]): void => {
    diagnostics.push({ span, file: span.file, keyPath, message, ...(hints ? { hints } : {}) });
  };

  if (section) {
    if (section.kind !== "map") {
      problem(section.span, "sweep", `expected a map of param paths to lists of values, found ${describe(section)}`, [
        "for example: sweep: { stages.finetune2.params.loss: [dice, dice_bce] }",
      ]);
    } else {
      for (const [key, entry] of section.entries) {
        const keyPath = `sweep.${key}`;
        if (key === "include") {
          include = readInclude(entry.value, keyPath, diagnostics);
        } else if (key === "cv") {
          cv = readCv(entry.value, keyPath, diagnostics);
        } else {
          const segments = keySegments(key, entry.keySpan, diagnostics);
          const values = listValues(entry.value, keyPath, diagnostics);
          if (segments && values) axes.set(key, { key, segments, values, repeat: isRepeatKey(key) });
        }
      }
    }
  }

  for (const text of args.sweep) {
    const axis = parseSweepArgument(text, diagnostics);
    if (axis) axes.set(axis.key, axis);
  }
  for (const text of args.cv) cv = parseCvArgument(text, diagnostics) ?? cv;

  const fixed: Assignment[] = [];
  if (cv) {
    const { segments, folds, span } = cv;
    const at = (name: string): Segment[] => [...segments, { name, span }];
    fixed.push({ segments: at("folds"), value: { kind: "scalar", value: folds, span } });
    const values: TreeNode[] = Array.from({ length: folds }, (_, k) => ({ kind: "scalar", value: k, span }));
    const key = [...segments.map((s) => s.name), "fold"].join(".");
    axes.delete(key);
    // Folds vary fastest, so a setup's runs sit together.
    axes.set(key, { key, segments: at("fold"), values, repeat: true });
  }
  return { axes: [...axes.values()], include, fixed };
}

/** The key of a `sweep:` entry, split at its dots, each segment located inside the key. */
function keySegments(key: string, keySpan: SourceSpan, diagnostics: Diagnostic[]): Segment[] | null {
  if (keySpan.start.line !== keySpan.end.line) {
    diagnostics.push({ span: keySpan, file: keySpan.file, keyPath: `sweep.${key}`, message: "expected a param path on one line" });
    return null;
  }
  // A one-line source holding just the key, so segment spans land on the key's columns.
  const line = keySpan.text.split("\n")[keySpan.start.line - 1] ?? "";
  const start = keySpan.start.column - 1;
  const raw = line.slice(start, keySpan.end.column - 1);
  const quoted = raw.startsWith('"') || raw.startsWith("'") ? 1 : 0;
  const segments = parseKeyPath(new SourceText(keySpan.file, line), start + quoted, start + quoted + key.length, diagnostics);
  // Put them back on the file's line number and full text.
  return segments?.map((segment) => ({ name: segment.name, span: onLine(segment.span, keySpan) })) ?? null;
}

function onLine(span: SourceSpan, like: SourceSpan): SourceSpan {
  return { file: like.file, text: like.text, start: { line: like.start.line, column: span.start.column }, end: { line: like.start.line, column: span.end.column } };
}

function listValues(node: TreeNode, keyPath: string, diagnostics: Diagnostic[]): TreeNode[] | null {
  if (node.kind !== "seq") {
    diagnostics.push({ span: node.span, file: node.span.file, keyPath, message: `expected a list of values, found ${describe(node)}`, hints: [`one run per value, e.g. [${writtenText(node)}, ...]`] });
    return null;
  }
  if (node.items.length === 0) {
    diagnostics.push({ span: node.span, file: node.span.file, keyPath, message: "expected at least one value, found an empty list" });
    return null;
  }
  return node.items;
}

function readInclude(node: TreeNode, keyPath: string, diagnostics: Diagnostic[]): Assignment[][] | null {
  const items = listValues(node, keyPath, diagnostics);
  if (!items) return null;
  const combinations: Assignment[][] = [];
  items.forEach((item, index) => {
    if (item.kind !== "map" || item.entries.size === 0) {
      diagnostics.push({ span: item.span, file: item.span.file, keyPath: `${keyPath}.${index}`, message: `expected a map of param path -> value, found ${describe(item)}` });
      return;
    }
    const combination: Assignment[] = [];
    for (const [key, entry] of item.entries) {
      const segments = keySegments(key, entry.keySpan, diagnostics);
      if (segments) combination.push({ segments, value: entry.value });
    }
    combinations.push(combination);
  });
  return combinations;
}

function readCv(node: TreeNode, keyPath: string, diagnostics: Diagnostic[]): { segments: Segment[]; folds: number; span: SourceSpan } | null {
  const shape = "expected { param: <path of the param object that takes folds and fold>, folds: K }";
  if (node.kind !== "map") {
    diagnostics.push({ span: node.span, file: node.span.file, keyPath, message: `${shape}, found ${describe(node)}`, hints: ["for example: cv: { param: stages.load.params.split, folds: 5 }"] });
    return null;
  }
  const param = node.entries.get("param")?.value;
  const folds = node.entries.get("folds")?.value;
  let ok = true;
  for (const key of node.entries.keys()) {
    if (key !== "param" && key !== "folds") {
      const entry = node.entries.get(key);
      if (entry) diagnostics.push({ span: entry.keySpan, file: entry.keySpan.file, keyPath: `${keyPath}.${key}`, message: `unknown key \`${key}\`; ${shape}` });
      ok = false;
    }
  }
  if (!param || param.kind !== "scalar" || typeof param.value !== "string" || param.value === "") {
    diagnostics.push({ span: param?.span ?? node.span, file: node.span.file, keyPath: `${keyPath}.param`, message: `expected the path of a param object, e.g. stages.load.params.split, found ${param ? describe(param) : "nothing"}` });
    ok = false;
  }
  if (!folds || folds.kind !== "scalar" || !Number.isInteger(folds.value) || (folds.value as number) < 2) {
    diagnostics.push({ span: folds?.span ?? node.span, file: node.span.file, keyPath: `${keyPath}.folds`, message: `expected a whole number of folds, 2 or more, found ${folds ? describe(folds) : "nothing"}` });
    ok = false;
  }
  if (!ok || param?.kind !== "scalar" || folds?.kind !== "scalar") return null;
  const line = param.span.text.split("\n")[param.span.start.line - 1] ?? "";
  const text = String(param.value);
  const offset = line.indexOf(text, param.span.start.column - 1);
  const segments = parseKeyPath(new SourceText(param.span.file, line), offset, offset + text.length, diagnostics);
  if (!segments) return null;
  return { segments: segments.map((s) => ({ name: s.name, span: onLine(s.span, param.span) })), folds: folds.value as number, span: param.span };
}

/** `--sweep stages.x.params.lr=1e-3,1e-4` or `...=[1e-3, 1e-4]`: values are YAML, each located in the argument. */
function parseSweepArgument(text: string, diagnostics: Diagnostic[]): SweepAxis | null {
  const source = new SourceText(SWEEP_SOURCE, text);
  const eq = text.indexOf("=");
  if (eq <= 0 || eq === text.length - 1) {
    diagnostics.push({ span: source.span(0, text.length), file: SWEEP_SOURCE, keyPath: "", message: `expected \`key.path=value,value...\`, found ${JSON.stringify(text)}`, hints: ["for example: --sweep stages.finetune2.params.optimizer.lr=1e-3,1e-4"] });
    return null;
  }
  const segments = parseKeyPath(source, 0, eq, diagnostics);
  if (!segments) return null;
  const key = segments.map((s) => s.name).join(".");
  let values: TreeNode[] | null = [];
  if (text[eq + 1] === "[") {
    const parsed = parseYaml(source, eq + 1);
    diagnostics.push(...parsed.diagnostics);
    values = parsed.tree ? listValues(parsed.tree, key, diagnostics) : null;
  } else {
    for (const [start, end] of topLevelPieces(text, eq + 1)) {
      const parsed = parseYaml(source, start, end);
      diagnostics.push(...parsed.diagnostics);
      if (!parsed.tree || (parsed.tree.kind === "scalar" && parsed.tree.value === null && start === end)) {
        if (parsed.diagnostics.length === 0) diagnostics.push({ span: source.span(start, end), file: SWEEP_SOURCE, keyPath: key, message: "empty value in the list" });
        values = null;
      } else if (values) values.push(parsed.tree);
    }
  }
  return values ? { key, segments, values, repeat: isRepeatKey(key) } : null;
}

/** `--cv stages.load.params.split=5`. */
function parseCvArgument(text: string, diagnostics: Diagnostic[]): { segments: Segment[]; folds: number; span: SourceSpan } | null {
  const source = new SourceText(CV_SOURCE, text);
  const eq = text.indexOf("=");
  const folds = Number(text.slice(eq + 1));
  if (eq <= 0 || !Number.isInteger(folds) || folds < 2) {
    diagnostics.push({ span: source.span(Math.max(0, eq + 1), text.length), file: CV_SOURCE, keyPath: "", message: `expected \`<param object path>=K\` with K a whole number of folds, 2 or more, found ${JSON.stringify(text)}`, hints: ["for example: --cv stages.load.params.split=5"] });
    return null;
  }
  const segments = parseKeyPath(source, 0, eq, diagnostics);
  return segments ? { segments, folds, span: source.span(0, eq) } : null;
}

/** [start, end) offsets of the comma-separated pieces after `from`, commas inside brackets or quotes not counting. */
function topLevelPieces(text: string, from: number): [number, number][] {
  const pieces: [number, number][] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = from;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      pieces.push([start, i]);
      start = i + 1;
    }
  }
  pieces.push([start, text.length]);
  return pieces;
}

/** A value as the user wrote it (`1e-3`, not 0.001), for run names. */
export function writtenText(node: TreeNode): string {
  const { span } = node;
  if (node.kind === "scalar" && span.start.line === span.end.line && span.end.column > span.start.column) {
    const line = span.text.split("\n")[span.start.line - 1] ?? "";
    const text = line.slice(span.start.column - 1, span.end.column - 1).trim().replace(/^(["'])(.*)\1$/, "$2");
    // Generated values (cv folds) carry their param's span: then the value itself is the truth.
    const same = typeof node.value === "number" ? Number(text) === node.value : text === String(node.value);
    if (text !== "" && same) return text;
  }
  return node.kind === "scalar" ? String(node.value) : JSON.stringify(toPlain(node));
}

function describe(node: TreeNode): string {
  switch (node.kind) {
    case "map":
      return "a map";
    case "seq":
      return `a list of ${node.items.length}`;
    case "scalar":
      return node.value === null ? "null" : `${typeof node.value} ${JSON.stringify(node.value)}`;
  }
}
