/**
 * Turns a validated experiment into a stage graph: resolves every input reference to
 * an upstream stage output, reports missing stages/outputs and cycles (with every
 * stage involved), and orders stages so each comes after its inputs.
 */
import type { ExperimentConfig, StageConfig } from "./config/experiment.js";
import { didYouMean } from "./config/did-you-mean.js";
import { MuPipeError, type Diagnostic } from "./failure.js";
import type { StageRegistry } from "./registry.js";
import type { StageType } from "./stage.js";

export interface ResolvedInput {
  readonly name: string;
  readonly stage: string;
  readonly output: string;
}

export interface GraphStage {
  readonly id: string;
  readonly type: StageType;
  readonly config: StageConfig;
  readonly inputs: readonly ResolvedInput[];
}

export interface StageGraph {
  readonly experiment: ExperimentConfig;
  /** Topological order; ties keep the order of the experiment file. */
  readonly stages: readonly GraphStage[];
  readonly byId: ReadonlyMap<string, GraphStage>;
}

export function buildGraph(experiment: ExperimentConfig, registry: StageRegistry): StageGraph {
  const diagnostics: Diagnostic[] = [];
  const ids = experiment.stages.map((s) => s.id);
  const idSet = new Set(ids);
  const stages: GraphStage[] = [];

  for (const config of experiment.stages) {
    const type = registry.get(config.uses);
    if (!type) throw new Error(`internal: stage type ${config.uses} passed validation but is not registered`);
    const inputs: ResolvedInput[] = [];
    for (const [name, ref] of Object.entries(config.inputs)) {
      const at = (message: string, hints: string[] = []): Diagnostic => ({
        span: experiment.locate(["stages", config.id, "inputs", name]),
        file: experiment.file,
        keyPath: `stages.${config.id}.inputs.${name}`,
        message,
        ...(hints.length > 0 ? { hints } : {}),
      });
      if (!idSet.has(ref.stage)) {
        const others = ids.filter((id) => id !== config.id);
        diagnostics.push(at(`no stage \`${ref.stage}\` in this experiment`, didYouMean(ref.stage, others)));
        continue;
      }
      const upstreamConfig = experiment.stages.find((s) => s.id === ref.stage);
      const upstreamType = upstreamConfig ? registry.get(upstreamConfig.uses) : undefined;
      if (!upstreamType) continue;
      const outputs = Object.keys(upstreamType.outputs);
      let output = ref.output;
      if (output === null) {
        if (outputs.length !== 1) {
          diagnostics.push(at(`stage \`${ref.stage}\` has outputs ${outputs.join(", ")}; name one, e.g. \`${ref.stage}.${outputs[0] ?? "output"}\``));
          continue;
        }
        output = outputs[0] ?? "";
      } else if (!outputs.includes(output)) {
        diagnostics.push(
          at(`stage \`${ref.stage}\` (${upstreamType.name}) has no output \`${output}\`; it has ${outputs.join(", ") || "none"}`, didYouMean(output, outputs)),
        );
        continue;
      }
      inputs.push({ name, stage: ref.stage, output });
    }
    stages.push({ id: config.id, type, config, inputs });
  }

  const byId = new Map(stages.map((s) => [s.id, s]));
  for (const cycle of findCycles(stages)) {
    const first = cycle[0] ?? "";
    diagnostics.push({
      span: experiment.locate(["stages", first, "inputs"]),
      file: experiment.file,
      keyPath: `stages.${first}.inputs`,
      message: `stages depend on each other in a cycle: ${[...cycle, first].join(" -> ")}`,
      hints: cycle.map((id) => `${id} takes ${(byId.get(id)?.inputs ?? []).map((i) => i.stage).filter((s) => cycle.includes(s)).join(", ")}`),
    });
  }
  if (diagnostics.length > 0) throw new MuPipeError({ reason: "config-invalid", diagnostics });

  return { experiment, stages: topologicalOrder(stages), byId };
}

/** Strongly connected components with more than one stage (or a self-loop), via Tarjan's algorithm. */
function findCycles(stages: readonly GraphStage[]): string[][] {
  const edges = new Map(stages.map((s) => [s.id, s.inputs.map((i) => i.stage)]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter += 1;
    stack.push(id);
    onStack.add(id);
    for (const next of edges.get(id) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(id, Math.min(low.get(id) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(id) === index.get(id)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== id);
      const selfLoop = (edges.get(id) ?? []).includes(id);
      if (component.length > 1 || selfLoop) cycles.push(orderAlongEdges(component.reverse(), edges));
    }
  };
  for (const stage of stages) if (!index.has(stage.id)) visit(stage.id);
  return cycles;
}

/** Orders a cycle's members so each one feeds the next (a -> b means b reads a). */
function orderAlongEdges(component: string[], edges: Map<string, string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0] ?? "";
  const ordered = [start];
  let current = start;
  while (ordered.length < component.length) {
    const next = component.find((id) => !ordered.includes(id) && (edges.get(id) ?? []).includes(current) && members.has(id));
    if (!next) break;
    ordered.push(next);
    current = next;
  }
  return ordered.length === component.length ? ordered : [...component].sort();
}

/** Kahn's algorithm, picking ready stages in file order so the result is stable. */
function topologicalOrder(stages: readonly GraphStage[]): GraphStage[] {
  const done = new Set<string>();
  const ordered: GraphStage[] = [];
  while (ordered.length < stages.length) {
    const ready = stages.find((s) => !done.has(s.id) && s.inputs.every((i) => done.has(i.stage)));
    if (!ready) throw new Error("internal: cycle left after cycle detection");
    done.add(ready.id);
    ordered.push(ready);
  }
  return ordered;
}

/** Every stage that reads (directly or not) from `id`, not including `id`. */
export function downstreamOf(graph: StageGraph, id: string): Set<string> {
  const result = new Set<string>();
  for (const stage of graph.stages) {
    if (stage.inputs.some((i) => i.stage === id || result.has(i.stage))) result.add(stage.id);
  }
  return result;
}

/** Every stage `id` reads from (directly or not), not including `id`. */
export function upstreamOf(graph: StageGraph, id: string): Set<string> {
  const result = new Set<string>();
  const visit = (stageId: string): void => {
    for (const input of graph.byId.get(stageId)?.inputs ?? []) {
      if (!result.has(input.stage)) {
        result.add(input.stage);
        visit(input.stage);
      }
    }
  };
  visit(id);
  return result;
}

export interface Selection {
  readonly only?: readonly string[];
  readonly from?: string;
  readonly until?: string;
}

/**
 * The stages a command acts on. `--only` names stages exactly; `--from S` is S and
 * everything downstream; `--until S` is S and everything upstream; both together
 * intersect. No flags: every stage.
 */
export function selectStages(graph: StageGraph, selection: Selection): Set<string> {
  const all = graph.stages.map((s) => s.id);
  for (const id of [...(selection.only ?? []), ...(selection.from ? [selection.from] : []), ...(selection.until ? [selection.until] : [])]) {
    if (!graph.byId.has(id)) {
      throw new MuPipeError({ reason: "not-found", what: "stage", query: id, candidates: all });
    }
  }
  let selected = new Set(all);
  if (selection.only && selection.only.length > 0) selected = new Set(selection.only);
  if (selection.from) {
    const from = new Set([selection.from, ...downstreamOf(graph, selection.from)]);
    selected = new Set([...selected].filter((id) => from.has(id)));
  }
  if (selection.until) {
    const until = new Set([selection.until, ...upstreamOf(graph, selection.until)]);
    selected = new Set([...selected].filter((id) => until.has(id)));
  }
  return selected;
}
