/**
 * Whether more of a metric is better, read from its name, for `runs --sort` and the
 * colours of compare deltas. Names we cannot place (counts, epochs, thresholds) have
 * no direction: they sort high first and their changes stay uncoloured.
 */

export type MetricDirection = "higher" | "lower";

const LOWER = /(loss|error|err$|mse|mae|rmse|_ms$|seconds|duration|time)/i;
const HIGHER = /(f1|dice|iou|jaccard|precision|recall|accuracy|acc$|auc|score)/i;

/** `evaluate.f1` -> higher, `finetune2.best_val_loss` -> lower, `load.items` -> null. */
export function metricDirection(key: string): MetricDirection | null {
  const name = key.slice(key.indexOf(".") + 1);
  if (/_std$/i.test(name)) return "lower";
  if (LOWER.test(name)) return "lower";
  if (HIGHER.test(name)) return "higher";
  return null;
}

/** "better", "worse" or null for a change of `absolute` in metric `key`. */
export function judgeChange(key: string, absolute: number): "better" | "worse" | null {
  const direction = metricDirection(key);
  if (direction === null || absolute === 0) return null;
  return (absolute > 0) === (direction === "higher") ? "better" : "worse";
}
