/** A plan as lines: stage, what will happen, why (further reasons on lines of their own). */
import type { StagePlan } from "../../pipeline/plan.js";

const ACTION_WORDS: Record<StagePlan["action"], string> = {
  reuse: "reuse",
  run: "will run",
  skip: "skip",
  blocked: "blocked",
};

export function planLines(plans: readonly StagePlan[]): string[] {
  const idWidth = Math.max(5, ...plans.map((p) => p.id.length));
  const actionWidth = Math.max(...Object.values(ACTION_WORDS).map((w) => w.length));
  const lines: string[] = [];
  for (const plan of plans) {
    const [first, ...rest] = [...plan.reasons, ...(plan.resume ? [`resumes after ${plan.resume}`] : [])];
    lines.push(`${plan.id.padEnd(idWidth)}  ${ACTION_WORDS[plan.action].padEnd(actionWidth)}  ${first ?? ""}`.trimEnd());
    for (const reason of rest) lines.push(`${"".padEnd(idWidth)}  ${"".padEnd(actionWidth)}  ${reason}`);
  }
  return lines;
}
