// What each change of configs/eyes-dev-plus.yaml buys over configs/eyes-dev.yaml, by
// 5-fold cross-validation: runs every variant as a mu-pipe sweep (cached results are
// reused, so a second call only prints) and prints a markdown table of pooled F1 per
// kind of photo (mean ± sample std over the folds), the swept threshold, and the
// minutes a fold took.
//
// --quick is the protocol the README's numbers come from (128x128, 1 + 3 epochs:
// about 25 min per variant on 2 cores); without it each variant runs the recipe as
// written (224x224, 3 + 10 epochs: hours per variant on a CPU).
// Needs ../shared/data/eyes-dev and the ImageNet weights (see configs/eyes-dev.yaml).
//
// Usage: npm run build && node bench/recipe-cv.mjs [--quick] [--runs-dir runs] [--jobs 2]
//        [--only name,name] [--report-only]
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "runs-dir": { type: "string", default: "runs" },
    jobs: { type: "string", default: "2" },
    only: { type: "string" },
    "report-only": { type: "boolean", default: false },
  },
});
const root = path.resolve(import.meta.dirname, "..");
const runsDir = path.resolve(values["runs-dir"]);
const cli = path.join(root, "bin/mu-pipe.js");

const cv = ["--cv", "stages.load.params.split=5"];
const webcamThreshold = ["--set", "stages.threshold.params.where.kind=webcam"];
const tta = ["--set", "stages.threshold.params.tta=flip"];
// A fold's training photos: 80 webcam, 624 renders (of 704), and 240 synthetic close-ups.
const proportionalWeights = [["webcam", 80], ["unityeyes", 624], ["synthetic", 240]];
const balanced = ["finetune1", "finetune2"].flatMap((stage) => ["--set", `stages.${stage}.params.sampling.balance_by=kind`]);

/** Each row: a name (also the experiment name of its sweep), what it changes, the config and its overrides. */
const VARIANTS = [
  { name: "eyes-dev-cv", change: "eyes-dev recipe (threshold on all training images)", config: "configs/eyes-dev-cv.yaml", args: [] },
  { name: "cv-base-webthr", change: "+ threshold on the webcam training photos", config: "configs/eyes-dev-cv.yaml", args: webcamThreshold },
  { name: "cv-base-tta", change: "+ flip TTA (threshold on all)", config: "configs/eyes-dev-cv.yaml", args: tta },
  { name: "cv-base-webthr-tta", change: "+ threshold on webcam + flip TTA", config: "configs/eyes-dev-cv.yaml", args: [...webcamThreshold, ...tta] },
  { name: "cv-balance", change: "+ batches balanced by kind", config: "configs/eyes-dev-cv.yaml", args: balanced },
  {
    name: "cv-plus-nobalance",
    change: "eyes-dev-plus without balancing (draws in proportion to each kind's size), threshold on webcam",
    config: "configs/eyes-dev-plus.yaml",
    args: [...cv, ...webcamThreshold, ...["finetune1", "finetune2"].flatMap((stage) => proportionalWeights.flatMap(([kind, weight]) => ["--set", `stages.${stage}.params.sampling.weights.${kind}=${weight}`]))],
  },
  {
    name: "cv-plus-noaug",
    change: "eyes-dev-plus without augmented copies (close-ups and balance kept), threshold on all",
    config: "configs/eyes-dev-plus.yaml",
    args: [...cv, "--set", "stages.resize.inputs.dataset=flip.dataset"],
  },
  { name: "cv-plus-notta", change: "eyes-dev-plus without TTA, threshold on webcam", config: "configs/eyes-dev-plus.yaml", args: [...cv, ...webcamThreshold, "--set", "stages.threshold.params.tta=none"] },
  { name: "cv-plus-webthr", change: "eyes-dev-plus, threshold on webcam", config: "configs/eyes-dev-plus.yaml", args: [...cv, ...webcamThreshold] },
  { name: "cv-plus", change: "**eyes-dev-plus**: close-ups, augment, balanced batches, TTA, threshold on all", config: "configs/eyes-dev-plus.yaml", args: cv },
];
const QUICK = ["--set", "stages.resize.params.size=128", "--set", "stages.finetune1.params.epochs=1", "--set", "stages.finetune2.params.epochs=3"];
const METRICS = ["kind=webcam.pooled_f1", "kind=unityeyes.pooled_f1", "kind=synthetic.pooled_f1"].map((m) => `evaluate.${m}`);

const chosen = values.only === undefined ? VARIANTS : VARIANTS.filter((v) => values.only.split(",").includes(v.name));
if (chosen.length === 0) throw new Error(`--only names none of: ${VARIANTS.map((v) => v.name).join(", ")}`);

if (!values["report-only"]) {
  for (const variant of chosen) {
    const args = [cli, "run", variant.config, ...variant.args, ...(values.quick ? QUICK : []), "--set", `experiment=${variant.name}`, "--set", `settings.runs_dir=${runsDir}`, "--jobs", values.jobs];
    console.error(`\n== ${variant.name}: node ${args.slice(1).join(" ")}`);
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    if (result.status !== 0) throw new Error(`${variant.name}: mu-pipe run exited with ${result.status}`);
  }
}

const producedBy = stageDurations(runsDir);
const rows = chosen.map((variant) => {
  const shown = sweepShow(variant.name);
  const row = shown.rows[0];
  // A run that never started (a stopped sweep) has no folder.
  const started = row.combinations.filter((c) => c.run !== null && c.run !== undefined);
  const runs = started.map((c) => c.run);
  const minutes = runs.map((run) => runMinutes(path.join(runsDir, run), producedBy));
  const webcam = new Map(started.map((c) => [c.label, runMetric(path.join(runsDir, c.run), "evaluate", "kind=webcam.pooled_f1")]));
  return { variant, row, minutes, webcam };
});
const [reference] = rows;

console.log(`| change | real webcam photos | vs the first row, same folds | UnityEyes renders | synthetic close-ups | threshold | min per fold |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
for (const { variant, row, minutes, webcam } of rows) {
  const [first, ...rest] = [...METRICS, "threshold.threshold"].map((metric) => formatSummary(row.metrics[metric]));
  const mean = minutes.reduce((a, b) => a + b, 0) / minutes.length;
  console.log(`| ${variant.change} | ${first} | ${pairedDifference(reference?.webcam, webcam)} | ${rest.join(" | ")} | ${mean.toFixed(1)} |`);
}
console.log(`\npooled F1 per kind of photo on each fold's test split (mean ± sample std over ${rows[0]?.row.runs ?? 0} folds)${values.quick ? ", quick protocol: 128x128, 1 + 3 epochs" : ""}`);

function sweepShow(experiment) {
  const args = [cli, "sweep", "show", experiment, "--runs-dir", runsDir, "--format", "json", ...[...METRICS, "threshold.threshold"].flatMap((m) => ["--metric", m])];
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`sweep show ${experiment}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Mean ± sample std of the per-fold differences (this row minus the reference): the folds are shared, so this is sharper than comparing means. */
function pairedDifference(reference, values) {
  if (reference === undefined || reference === values) return "–";
  const differences = [...values].filter(([fold, v]) => v !== undefined && reference.get(fold) !== undefined).map(([fold, v]) => v - reference.get(fold));
  if (differences.length < 2) return "–";
  const mean = differences.reduce((a, b) => a + b, 0) / differences.length;
  const std = Math.sqrt(differences.reduce((a, d) => a + (d - mean) ** 2, 0) / (differences.length - 1));
  return `${mean >= 0 ? "+" : ""}${mean.toFixed(3)} ± ${std.toFixed(3)}`;
}

function runMetric(runDir, stage, key) {
  try {
    return JSON.parse(readFileSync(path.join(runDir, "metrics.json"), "utf8")).stages?.[stage]?.[key] ?? undefined;
  } catch {
    return undefined;
  }
}

function formatSummary(summary) {
  if (summary === undefined) return "–";
  return `${summary.mean.toFixed(3)} ± ${summary.std.toFixed(3)}`;
}

/**
 * The minutes each stage's result took when it was computed (a reused stage costs
 * what it cost the run that made it), keyed by artifact digest.
 */
function stageDurations(dir) {
  const made = new Map();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    let record;
    try {
      record = JSON.parse(readFileSync(path.join(dir, entry.name, "run.json"), "utf8"));
    } catch {
      continue;
    }
    for (const stage of record.stages ?? []) {
      if (stage.status === "succeeded" && stage.artifactDigest) made.set(stage.artifactDigest, stage.durationMs);
    }
  }
  return made;
}

function runMinutes(runDir, made) {
  const record = JSON.parse(readFileSync(path.join(runDir, "run.json"), "utf8"));
  const ms = (record.stages ?? []).reduce((sum, stage) => sum + (made.get(stage.artifactDigest) ?? stage.durationMs ?? 0), 0);
  return ms / 60000;
}
