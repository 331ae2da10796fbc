/** What a run saves as its config.yaml. */
import type { ExperimentConfig } from "../pipeline/config/experiment.js";

/** The resolved document with every stage's params as the stage saw them (defaults filled), so `compare` sees default changes too. */
export function withFilledParams(config: ExperimentConfig): Record<string, unknown> {
  const written = (config.resolved.stages ?? {}) as Record<string, Record<string, unknown>>;
  const stages = Object.fromEntries(config.stages.map((s) => [s.id, { ...written[s.id], params: s.params }]));
  return { ...config.resolved, stages };
}
