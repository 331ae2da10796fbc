/**
 * Reads an experiment file and, through `extends:`, the files it builds on, merging them
 * into one source tree (parent first, child over it; see `mergeTrees`).
 *
 * Values keep the file they were written in, so a problem in a parent's value is
 * reported in the parent. The `experiment` name is never inherited: each file that is
 * run must name itself.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Diagnostic, SourceSpan } from "../failure.js";
import { parseYaml } from "./parse-yaml.js";
import { mergeTrees, SourceText, type MapNode, type TreeNode } from "./source-tree.js";

export interface MergedExperiment {
  /** Null when a file could not be read or parsed (the diagnostics say why). */
  readonly tree: TreeNode | null;
  /** Display paths of the files read, the given file first. */
  readonly files: readonly string[];
}

export async function readExperimentTree(file: string, cwd: string, diagnostics: Diagnostic[]): Promise<MergedExperiment> {
  const files: string[] = [];
  const tree = await readWithParents(path.resolve(cwd, file), [], null, { cwd, diagnostics, files });
  return { tree, files };
}

interface Reading {
  readonly cwd: string;
  readonly diagnostics: Diagnostic[];
  readonly files: string[];
}

/** How a path is shown in diagnostics: relative to the current directory when possible. */
export function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative === "" || path.isAbsolute(relative) ? file : relative;
}

/**
 * @param chain absolute paths of the files that (transitively) extend this one
 * @param via the `extends:` value that led here, or null for the given file
 */
async function readWithParents(file: string, chain: readonly string[], via: SourceSpan | null, reading: Reading): Promise<TreeNode | null> {
  const { cwd, diagnostics } = reading;
  const shown = displayPath(file, cwd);
  const problem = (message: string): null => {
    diagnostics.push({ span: via, file: via?.file ?? shown, keyPath: via ? "extends" : "", message });
    return null;
  };
  if (chain.includes(file)) {
    return problem(`files extend each other in a cycle: ${[...chain, file].map((f) => displayPath(f, cwd)).join(" -> ")}`);
  }

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return problem(`cannot read ${via ? shown : "the file"}: ${readFailure(error)}`);
  }
  reading.files.push(shown);
  const parsed = parseYaml(new SourceText(shown, text));
  diagnostics.push(...parsed.diagnostics);
  const own = parsed.tree;
  if (!own || own.kind !== "map") return own;
  const extendsEntry = own.entries.get("extends");
  if (!extendsEntry) return own;

  const rest = withoutKey(own, "extends");
  const target = extendsEntry.value;
  if (target.kind !== "scalar" || typeof target.value !== "string" || target.value === "") {
    diagnostics.push({
      span: target.span,
      file: shown,
      keyPath: "extends",
      message: "expected the path of another experiment file",
    });
    return rest;
  }
  const parent = await readWithParents(path.resolve(path.dirname(file), target.value), [...chain, file], target.span, reading);
  if (!parent) return null;
  const merged = mergeTrees(parent, rest);
  return rest.entries.has("experiment") || merged.kind !== "map" ? merged : withoutKey(merged, "experiment");
}

function withoutKey(map: MapNode, key: string): MapNode {
  const entries = new Map(map.entries);
  entries.delete(key);
  return { ...map, entries };
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a folder, not a file";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
