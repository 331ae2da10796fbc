/**
 * Experiment file -> validated `ExperimentConfig`, or a `config-invalid` failure listing
 * every problem found, each pointing at its spot. Nothing is run.
 *
 * Steps: read the file and the files it `extends` into one source tree; apply `--set`
 * overrides; validate the plain document against the experiment schema (which fills
 * defaults); turn it into the typed config.
 */
import path from "node:path";
import { MuPipeError, type Diagnostic } from "../failure.js";
import type { StageRegistry } from "../registry.js";
import type { ExperimentConfig, InputRef, StageConfig } from "./experiment.js";
import { slurmSettingsOf, type ExecutorName, type ValidSlurmSection } from "./execution-settings.js";
import { readExperimentTree } from "./extends-chain.js";
import { OVERRIDE_SOURCE, applyAssignments, applyOverrides, type Assignment } from "./overrides.js";
import { SWEEP_KEY } from "./experiment-schema.js";
import { closestMatch } from "./did-you-mean.js";
import { validateAgainstSchema } from "./schema-errors.js";
import { findNode, spanOfValue, toPlain, type TreeNode } from "./source-tree.js";

export interface LoadExperimentOptions {
  /** `--set key.path=value` overrides, applied in order after `extends:`. */
  readonly overrides: readonly string[];
  /** Values set after the overrides (one combination of a sweep), each located where it was written. */
  readonly assignments?: readonly Assignment[];
  readonly registry: StageRegistry;
  /** Relative paths (the file, `runs_dir`, `store`) resolve against it; default `process.cwd()`. */
  readonly cwd?: string;
}

/** The document as the schema has accepted it, defaults filled in. */
interface ValidDocument {
  readonly experiment: string;
  readonly settings: {
    readonly seed: number;
    readonly runtime: { readonly backend: string; readonly threads?: number };
    readonly runs_dir: string;
    readonly store?: string;
    readonly jobs: number;
    readonly executor: ExecutorName;
    readonly slurm: ValidSlurmSection;
  };
  readonly stages: Readonly<Record<string, ValidStage>>;
}

interface ValidStage {
  readonly uses: string;
  readonly description?: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly params: Readonly<Record<string, unknown>>;
}

export async function loadExperiment(file: string, options: LoadExperimentOptions): Promise<ExperimentConfig> {
  const cwd = options.cwd ?? process.cwd();
  const absoluteFile = path.resolve(cwd, file);
  const diagnostics: Diagnostic[] = [];
  const { tree: merged, files } = await readExperimentTree(absoluteFile, cwd, diagnostics);
  const overridden = applyOverrides(merged && withoutSweep(merged), options.overrides, diagnostics);
  if (!overridden) throw invalid(diagnostics, files, options.overrides);
  const tree = applyAssignments(overridden, options.assignments ?? [], diagnostics);

  const resolved = toPlain(tree);
  const data = structuredClone(resolved);
  addEmptyStageSections(data);
  diagnostics.push(...validateAgainstSchema(data, tree, options.registry));
  if (diagnostics.length === 0) diagnostics.push(...slurmStageProblems(data as ValidDocument, tree, absoluteFile));
  if (diagnostics.length > 0) throw invalid(diagnostics, files, options.overrides);

  return toConfig(data as ValidDocument, {
    file: absoluteFile,
    cwd,
    tree,
    resolved: resolved as Record<string, unknown>,
  });
}

/** `sweep:` says which runs to make (pipeline/sweep/); each run's own config has none. */
function withoutSweep(tree: TreeNode): TreeNode {
  if (tree.kind !== "map" || !tree.entries.has(SWEEP_KEY)) return tree;
  const entries = new Map(tree.entries);
  entries.delete(SWEEP_KEY);
  return { ...tree, entries };
}

/**
 * A stage without `params` or `inputs` gets empty ones, so the stage type's defaults are
 * filled in and its required params and inputs are reported as missing.
 */
function addEmptyStageSections(data: unknown): void {
  const stages = isRecord(data) ? data["stages"] : undefined;
  if (!isRecord(stages)) return;
  for (const stage of Object.values(stages)) {
    if (!isRecord(stage)) continue;
    stage["params"] ??= {};
    stage["inputs"] ??= {};
  }
}

function toConfig(
  doc: ValidDocument,
  where: { file: string; cwd: string; tree: TreeNode; resolved: Record<string, unknown> },
): ExperimentConfig {
  const { settings } = doc;
  const stages: StageConfig[] = Object.entries(doc.stages).map(([id, stage]) => ({
    id,
    uses: stage.uses,
    description: stage.description ?? null,
    inputs: Object.fromEntries(Object.entries(stage.inputs).map(([name, ref]) => [name, parseInputRef(ref)])),
    params: stage.params,
  }));
  const { tree } = where;
  return {
    name: doc.experiment,
    file: where.file,
    baseDir: path.dirname(where.file),
    settings: {
      seed: settings.seed,
      runtime: {
        backend: settings.runtime.backend,
        ...(settings.runtime.threads !== undefined ? { threads: settings.runtime.threads } : {}),
      },
      runsDir: path.resolve(where.cwd, settings.runs_dir),
      storeDir: path.resolve(where.cwd, settings.store ?? path.join(settings.runs_dir, ".store")),
      jobs: settings.jobs,
      executor: settings.executor,
      slurm: slurmSettingsOf(settings.slurm),
    },
    stages,
    resolved: where.resolved,
    locate: (keyPath) => spanOfValue(findNode(tree, keyPath)),
  };
}

/** `"stage.output"` -> {stage, output}; `"stage"` -> {stage, output: null}. The schema has checked the syntax. */
export function parseInputRef(ref: string): InputRef {
  const dot = ref.indexOf(".");
  return dot < 0 ? { stage: ref, output: null } : { stage: ref.slice(0, dot), output: ref.slice(dot + 1) };
}

/** All diagnostics in reading order: the given file, its parents, then each `--set`. */
function invalid(diagnostics: readonly Diagnostic[], files: readonly string[], overrides: readonly string[]): MuPipeError {
  const rank = (d: Diagnostic): number => {
    const file = d.span?.file ?? d.file;
    if (file === OVERRIDE_SOURCE) return files.length + 1 + Math.max(0, overrides.indexOf(d.span?.text ?? ""));
    const index = files.indexOf(file);
    return index < 0 ? files.length : index;
  };
  const sorted = diagnostics
    .map((d, index) => ({ d, index }))
    .sort(
      (a, b) =>
        rank(a.d) - rank(b.d) ||
        (a.d.span?.start.line ?? 0) - (b.d.span?.start.line ?? 0) ||
        (a.d.span?.start.column ?? 0) - (b.d.span?.start.column ?? 0) ||
        a.index - b.index,
    )
    .map(({ d }) => d);
  return new MuPipeError({ reason: "config-invalid", diagnostics: sorted });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `settings.slurm.stages` keys must name a stage id or a stage type the experiment uses: a typo would silently drop a GPU request. */
function slurmStageProblems(doc: ValidDocument, tree: TreeNode, file: string): Diagnostic[] {
  const known = new Set([...Object.keys(doc.stages), ...Object.values(doc.stages).map((s) => s.uses)]);
  return Object.keys(doc.settings.slurm.stages)
    .filter((key) => !known.has(key))
    .map((key) => {
      const guess = closestMatch(key, known);
      return {
        span: spanOfValue(findNode(tree, ["settings", "slurm", "stages", key])),
        file,
        keyPath: `settings.slurm.stages.${key}`,
        message: `\`${key}\` is neither a stage id nor a stage type of this experiment (${[...known].sort().join(", ")})`,
        ...(guess ? { hints: [`did you mean \`${guess}\`?`] } : {}),
      };
    });
}
