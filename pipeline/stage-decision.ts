/**
 * What a run does with one stage and why: reuse its cached result, run it, skip it, or
 * stop because it cannot run. One function decides for `run`, `status` and
 * `run --dry-run`, so what they say always agrees, reason strings included.
 *
 * The decision needs to know what each upstream stage came to. `run` knows it exactly
 * (stages before this one have finished); a plan does not know the digest of a stage
 * that will run, so a stage downstream of it is decided as `after-upstream`.
 */
import { explainFingerprintChange, fingerprintKey } from "./fingerprint.js";
import { MuPipeError, unreachable } from "./failure.js";
import type { Fingerprint, StageRecord } from "./formats.js";
import type { GraphStage, StageGraph } from "./graph.js";
import { fingerprintInGraph } from "./stage-fingerprint.js";
import type { ArtifactStore } from "./store/artifact-store.js";

/** What an upstream stage came to, as a stage reading its output sees it. */
export type UpstreamState =
  | { readonly kind: "ready"; readonly artifactDigest: string }
  /** It will run (in a plan): its output is not known yet. */
  | { readonly kind: "pending" }
  /** Its output will not be there; `why` completes "stage X, which ...". */
  | { readonly kind: "unavailable"; readonly why: string };

export type StageDecision =
  | { readonly kind: "reuse"; readonly reason: string; readonly key: string; readonly record: StageRecord }
  | {
      readonly kind: "run";
      /** Why it runs: `forced`, what changed since the previous run, or that nothing is cached. */
      readonly reasons: readonly string[];
      readonly forced: boolean;
      readonly fingerprint: Fingerprint;
      readonly key: string;
      /** What an interrupted attempt left to resume from (the stage type's `resumePoint`), or null. */
      readonly resume: string | null;
    }
  /** Selected, but runs only after upstream stages that will run (plans only). */
  | { readonly kind: "after-upstream"; readonly reasons: readonly string[] }
  /** Not selected and not reused; `unavailable` says why its output is missing downstream. */
  | { readonly kind: "skip"; readonly reason: string; readonly unavailable: string; readonly key: string | null }
  /** Selected but cannot run: `reason` is short (run.json), `message` says what to do. */
  | { readonly kind: "blocked"; readonly reason: string; readonly message: string };

export interface DecisionDeps {
  readonly store: ArtifactStore;
  digestExternal(absPath: string): Promise<string>;
  /** The fingerprint this stage had in the experiment's previous run, to explain why it runs. */
  previousFingerprint(stageId: string): Promise<Fingerprint | null>;
}

export interface DecisionInput {
  readonly graph: StageGraph;
  readonly stage: GraphStage;
  /** Whether the command acts on this stage (--only/--from/--until). */
  readonly selected: boolean;
  /** Whether it runs even when a cached result exists (--force). */
  readonly forced: boolean;
  /** What each upstream stage came to, by stage id. */
  upstream(stageId: string): UpstreamState;
}

const NOT_SELECTED = "not selected";

export async function decideStage(input: DecisionInput, deps: DecisionDeps): Promise<StageDecision> {
  const { graph, stage, selected, forced } = input;

  const missing = stage.inputs.find((i) => input.upstream(i.stage).kind === "unavailable");
  if (missing) {
    const state = input.upstream(missing.stage);
    const why = `input \`${missing.name}\` needs stage ${missing.stage}, which ${state.kind === "unavailable" ? state.why : "did not run"}`;
    if (selected) return { kind: "blocked", reason: why, message: why };
    return { kind: "skip", reason: NOT_SELECTED, unavailable: "is not selected and has no cached result", key: null };
  }

  const pending = [...new Set(stage.inputs.filter((i) => input.upstream(i.stage).kind === "pending").map((i) => i.stage))];
  if (pending.length > 0) {
    if (selected) return { kind: "after-upstream", reasons: pending.map((id) => `upstream ${id} will run`) };
    return { kind: "skip", reason: NOT_SELECTED, unavailable: "is not selected and has no cached result", key: null };
  }

  const digests = new Map<string, string>();
  for (const i of stage.inputs) {
    const state = input.upstream(i.stage);
    if (state.kind === "ready") digests.set(i.stage, state.artifactDigest);
  }
  let fingerprint: Fingerprint;
  try {
    fingerprint = await fingerprintInGraph(graph, stage, digests, deps.digestExternal);
  } catch (error) {
    // E.g. a dataset folder that does not exist: the stage cannot run.
    return { kind: "blocked", reason: "inputs unreadable", message: `cannot read what the stage depends on: ${errorText(error)}` };
  }
  const key = fingerprintKey(fingerprint);
  const cached = await deps.store.lookup(key);

  if (!selected) {
    if (cached) return { kind: "reuse", reason: "not selected; cached result used", key, record: cached };
    return { kind: "skip", reason: NOT_SELECTED, unavailable: "is not selected and has no cached result for its current inputs (run it too, or drop --only/--from)", key };
  }
  if (cached && !forced) return { kind: "reuse", reason: "fingerprint matches a cached result", key, record: cached };

  const resume = await resumePoint(stage, key, deps.store);
  return { kind: "run", reasons: forced ? ["forced"] : await whyRun(stage.id, fingerprint, resume !== null, deps), forced, fingerprint, key, resume };
}

/** What a later stage sees of this one once the decision is carried out (a run that succeeds becomes `ready`). */
export function upstreamStateOf(decision: StageDecision): UpstreamState {
  switch (decision.kind) {
    case "reuse":
      return { kind: "ready", artifactDigest: decision.record.artifactDigest };
    case "run":
    case "after-upstream":
      return { kind: "pending" };
    case "skip":
      return { kind: "unavailable", why: decision.unavailable };
    case "blocked":
      return { kind: "unavailable", why: "cannot run" };
    default:
      return unreachable(decision);
  }
}

async function whyRun(stageId: string, fingerprint: Fingerprint, resumable: boolean, deps: DecisionDeps): Promise<string[]> {
  const previous = await deps.previousFingerprint(stageId);
  // Only an interrupted attempt with this very fingerprint leaves something to resume from.
  if (previous === null && resumable) return ["an earlier attempt was interrupted"];
  const reasons = explainFingerprintChange(previous, fingerprint);
  return reasons.length > 0 ? reasons : ["no cached result for this fingerprint"];
}

async function resumePoint(stage: GraphStage, key: string, store: ArtifactStore): Promise<string | null> {
  if (!stage.type.resumePoint) return null;
  const scratch = await store.findScratch(key);
  if (scratch === null) return null;
  // A checkpoint that cannot be read is not worth failing `status` for; the stage itself decides when it runs.
  return stage.type.resumePoint(scratch, stage.config.params).catch(() => null);
}

function errorText(error: unknown): string {
  if (error instanceof MuPipeError && error.failure.reason === "io") return `${error.failure.path}: ${error.failure.message}`;
  return error instanceof Error ? error.message : String(error);
}
