/**
 * The engine side of `StageType.facts` and `StageType.preflight` (pipeline/stage.ts):
 * facts flow down the graph from the stages that finished, and the stages still to run
 * check them, so a run that cannot succeed stops before its expensive stages start.
 *
 * The executor asks `preflightStop` before each stage it is about to run; `status` and
 * `run --dry-run` ask `planProblems` with the metrics of the cached results. Problems
 * come back as located diagnostics (file, line, key), like experiment errors.
 */
import type { Diagnostic } from "./failure.js";
import type { EventSink } from "./events.js";
import type { GraphStage, StageGraph } from "./graph.js";
import type { StagePlan } from "./plan.js";
import type { RunDirectory } from "./run-directory.js";
import type { Facts, Metrics, PreflightProblem } from "./stage.js";
import type { ArtifactStore } from "./store/artifact-store.js";

/** Why a run stopped before a stage started. */
export interface PreflightStop {
  /** The stage that was about to start when the problems were found. */
  readonly before: string;
  readonly problems: readonly LocatedProblem[];
}

/** A preflight problem pointing at the experiment, with the stages that would fail on it. */
export interface LocatedProblem {
  readonly stageIds: readonly string[];
  readonly diagnostic: Diagnostic;
}

/** Every stage's facts, in graph order, given the metrics of the stages that finished. */
export function collectFacts(graph: StageGraph, finished: Readonly<Record<string, Metrics>>): Map<string, Facts> {
  const facts = new Map<string, Facts>();
  for (const stage of graph.stages) {
    const metrics = finished[stage.id] ?? null;
    const inputs = inputFacts(stage, facts);
    let own: Facts = metrics ?? {};
    if (stage.type.facts) {
      try {
        own = stage.type.facts({ stageId: stage.id, params: stage.config.params, inputs, metrics });
      } catch {
        // A broken facts hook must not stop a run that would otherwise work: nothing known.
      }
    }
    facts.set(stage.id, own);
  }
  return facts;
}

/**
 * The problems that `pending` stages' preflight checks find, as diagnostics. A problem
 * several stages report (two fine-tune stages reading one empty split) is listed once,
 * naming them all.
 */
export function preflightProblems(graph: StageGraph, pending: ReadonlySet<string>, finished: Readonly<Record<string, Metrics>>): LocatedProblem[] {
  const facts = collectFacts(graph, finished);
  const merged = new Map<string, { problem: PreflightProblem; keyPath: string; stageIds: string[] }>();
  for (const stage of graph.stages) {
    if (!pending.has(stage.id) || !stage.type.preflight) continue;
    let problems: readonly PreflightProblem[] = [];
    try {
      problems = stage.type.preflight({ stageId: stage.id, params: stage.config.params, inputs: inputFacts(stage, facts) });
    } catch {
      // As for facts: a check that breaks finds nothing; the stage's own run still checks.
    }
    for (const problem of problems) {
      const keyPath = problem.keyPath ?? `stages.${stage.id}`;
      const key = JSON.stringify([keyPath, problem.message, problem.hints ?? []]);
      const entry = merged.get(key);
      if (entry) entry.stageIds.push(stage.id);
      else merged.set(key, { problem, keyPath, stageIds: [stage.id] });
    }
  }
  const { experiment } = graph;
  return [...merged.values()].map(({ problem, keyPath, stageIds }) => ({
    stageIds,
    diagnostic: {
      span: experiment.locate(keyPath.split(".")),
      file: experiment.file,
      keyPath,
      message: problem.message,
      hints: [`${stageIds.length === 1 ? "stage" : "stages"} ${stageIds.join(", ")} would fail on this`, ...(problem.hints ?? [])],
    },
  }));
}

/**
 * Before `next` starts: the problems of every selected stage that has not finished
 * (`next` included), judged on the facts of those that have; null when none is found.
 */
export function preflightStop(graph: StageGraph, selected: ReadonlySet<string>, next: string, finished: Readonly<Record<string, Metrics>>): PreflightStop | null {
  const pending = new Set([...selected].filter((id) => finished[id] === undefined));
  const problems = preflightProblems(graph, pending, finished);
  return problems.length === 0 ? null : { before: next, problems };
}

/**
 * Records a stop in the run: the stages that would fail as failed (with the problem),
 * the other stages from `next` on as skipped.
 */
export async function recordPreflightStop(stop: PreflightStop, graph: StageGraph, runDir: RunDirectory, sink: EventSink): Promise<void> {
  const from = graph.stages.findIndex((s) => s.id === stop.before);
  const failing = failingStages(stop);
  for (const stage of graph.stages.slice(Math.max(0, from))) {
    if (failing.includes(stage.id)) {
      const message = stop.problems
        .filter((p) => p.stageIds.includes(stage.id))
        .map((p) => `${p.diagnostic.keyPath}: ${p.diagnostic.message}`)
        .join("; ");
      await runDir.updateStage(stage.id, { status: "failed", reason: "preflight: would fail on the results so far", error: message });
      sink.emit({ type: "stage-failed", id: stage.id, message, logFile: null });
    } else {
      const reason = `not run: the run stopped before ${stop.before} (${failing.join(", ")} would fail)`;
      await runDir.updateStage(stage.id, { status: "skipped", reason });
      sink.emit({ type: "stage-skipped", id: stage.id, reason });
    }
  }
}

/** For `status` and `run --dry-run`: the problems the cached results already show for the stages that will run. */
export async function planProblems(graph: StageGraph, plans: readonly StagePlan[], store: ArtifactStore): Promise<Diagnostic[]> {
  const finished: Record<string, Metrics> = {};
  for (const plan of plans) {
    if (plan.action !== "reuse" || plan.fingerprintKey === null) continue;
    const record = await store.lookup(plan.fingerprintKey);
    if (record) finished[plan.id] = record.metrics;
  }
  const pending = new Set(plans.filter((p) => p.action === "run").map((p) => p.id));
  return preflightProblems(graph, pending, finished).map((p) => p.diagnostic);
}

/** The stages a stop names, each once, in the order of its problems. */
export function failingStages(stop: PreflightStop): string[] {
  return [...new Set(stop.problems.flatMap((p) => p.stageIds))];
}

function inputFacts(stage: GraphStage, facts: ReadonlyMap<string, Facts>): Record<string, Facts> {
  return Object.fromEntries(stage.inputs.map((input) => [input.name, facts.get(input.stage) ?? {}]));
}
