/** `status` and `run --dry-run` of a sweep: every combination's stages, reused or run and why. */
import type { StagePlan } from "../../pipeline/plan.js";
import type { LoadedSweep } from "../../pipeline/sweep/load-sweep.js";
import type { CombinationPlan } from "../sweep-plan.js";
import { planLines } from "./plan-text.js";

export function sweepPlanText(sweep: LoadedSweep, plans: readonly CombinationPlan[]): string {
  const count = (action: StagePlan["action"]): number => plans.reduce((n, p) => n + p.plans.filter((s) => s.action === action).length, 0);
  const keys = sweep.keys.map((k) => (k.repeat ? `${k.short} (repeat)` : k.short)).join(", ");
  const lines = [`sweep of ${plans.length} run${plans.length === 1 ? "" : "s"} over ${keys}`];
  for (const plan of plans) lines.push("", `[${plan.label}]`, ...planLines(plan.plans));
  lines.push("", `${count("run")} stage runs to compute, ${count("reuse")} reused`);
  return lines.join("\n");
}
