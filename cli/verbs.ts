/**
 * Every `mu-pipe` verb: a one-line summary for the command list, a short description
 * and examples for its help, and how to load it. Modules load only when used, so
 * `status` and `dag` start fast and never load sharp or TensorFlow.
 */
import type { Command } from "./command.js";

export interface Verb {
  /** One line, for `mu-pipe help`. */
  readonly summary: string;
  /** A sentence or two, opening `mu-pipe help <verb>`. */
  readonly description: string;
  /** Command lines, each with a `# comment` saying what it does. */
  readonly examples: readonly string[];
  /** Printed after the options, e.g. a verb's exit codes. */
  readonly notes?: string;
  /** Verbs of their own under this one (`runs rm`). */
  readonly subcommands?: Readonly<Record<string, Verb>>;
  /** Not listed by `mu-pipe help`: an entry point for mu-pipe's own worker processes and jobs. */
  readonly hidden?: boolean;
  load(): Promise<Command>;
}

export const EXIT_CODES = "exit codes: 0 ok, 1 a stage failed, 2 usage or config error, 130 interrupted";

export const verbs: Readonly<Record<string, Verb>> = {
  run: {
    summary: "run an experiment's stages, reusing cached results",
    description: "Runs an experiment's stages in order, reusing every stage whose fingerprint (type, params, inputs) has a cached result, and writes a run folder under runs/.",
    examples: [
      "mu-pipe run configs/quickstart.yaml                                        # run it all",
      "mu-pipe run configs/quickstart.yaml --set stages.finetune2.params.lr=3e-5  # one value changed",
    ],
    notes: `${EXIT_CODES}`,
    load: async () => (await import("./commands/run.js")).runCommand,
  },
  status: {
    summary: "show which stages would be reused or run, and why",
    description: "Shows, for each stage of an experiment, whether `run` would reuse its cached result or run it, and why; runs nothing.",
    examples: ["mu-pipe status configs/quickstart.yaml", "mu-pipe status configs/quickstart.yaml --set stages.finetune2.params.epochs=6   # what a change would rerun"],
    load: async () => (await import("./commands/status.js")).statusCommand,
  },
  dag: {
    summary: "print the stage graph (text or mermaid)",
    description: "Prints an experiment's stages and which output feeds which input.",
    examples: ["mu-pipe dag configs/quickstart.yaml", "mu-pipe dag configs/eyes.yaml --format mermaid   # paste into a GitHub comment"],
    load: async () => (await import("./commands/dag.js")).dagCommand,
  },
  runs: {
    summary: "list runs with status and headline metrics; `runs rm` deletes runs",
    description: "Lists runs newest first with their status, how many stages ran or were reused, and up to three headline metrics.",
    examples: ["mu-pipe runs quickstart --sort evaluate.f1   # quickstart's runs, best F1 first", "mu-pipe runs rm --failed                     # delete failed, interrupted and dead runs"],
    subcommands: {
      rm: {
        summary: "delete runs",
        description: "Deletes run folders (a running run is refused). Their stored artifacts stay until `mu-pipe gc`, or pass --gc.",
        examples: ["mu-pipe runs rm latest~3 20261126T02      # these two runs", "mu-pipe runs rm --failed --older-than 7d --gc   # old failed runs, then free their artifacts"],
        load: async () => (await import("./commands/runs-rm.js")).runsRmCommand,
      },
    },
    load: async () => (await import("./commands/runs.js")).runsCommand,
  },
  show: {
    summary: "show one run: stages, reasons, metrics",
    description: "Shows one run: its status, each stage's status, time, artifact and why it ran or was reused, errors with their logs, and every metric.",
    examples: ["mu-pipe show                 # the latest run", "mu-pipe show quickstart~1    # the run of quickstart before its newest"],
    load: async () => (await import("./commands/show.js")).showCommand,
  },
  compare: {
    summary: "compare runs: differing params, metric deltas",
    description: "Compares runs: the params that differ, each metric side by side with its change against the first run, and what the stages ran on.",
    examples: ["mu-pipe compare latest~1 latest", "mu-pipe compare latest~1 latest --changed-only --format html   # a page with curves overlaid"],
    load: async () => (await import("./commands/compare.js")).compareCommand,
  },
  sweep: {
    summary: "a sweep's results: one row per setup, mean ± std over folds",
    description: "Shows a sweep's results: a row per combination of swept values, each metric as mean ± sample std over the folds or seeds of that combination, the best row marked; `sweep list` lists the sweeps.",
    examples: ["mu-pipe sweep show                               # the latest sweep", "mu-pipe sweep show eyes-dev-cv --format html     # a page: table, metric against each swept param, curves"],
    load: async () => (await import("./commands/sweep.js")).sweepCommand,
  },
  report: {
    summary: "write a run's report.html (curves, metrics, overlays, stage times)",
    description: "Writes (again) a run's report.html: one self-contained page with its metrics, curves, overlays and stage times.",
    examples: ["mu-pipe report              # the latest run's", "mu-pipe report quickstart --out /tmp/quickstart.html"],
    load: async () => (await import("./commands/report.js")).reportCommand,
  },
  gc: {
    summary: "remove store entries no run references, dead locks and old scratch",
    description: "Frees disk: stored artifacts no run uses, and what killed runs left (temp folders, locks, scratch).",
    examples: ["mu-pipe gc --dry-run   # what would go", "mu-pipe gc"],
    load: async () => (await import("./commands/gc.js")).gcCommand,
  },
  verify: {
    summary: "check every stored artifact against its manifest",
    description: "Re-hashes every stored artifact and compares it with its manifest.",
    examples: ["mu-pipe verify", "mu-pipe verify --runs-dir /data/runs"],
    load: async () => (await import("./commands/verify.js")).verifyCommand,
  },
  schema: {
    summary: "write the experiment JSON Schema (for editors)",
    description: "Prints or writes the JSON Schema of experiment files, so editors complete and check them.",
    examples: ["mu-pipe schema --out schema/experiment.schema.json"],
    load: async () => (await import("./commands/schema.js")).schemaCommand,
  },
  score: {
    summary: "score an SSBC submission folder against ground truth (SSBC 2020 protocol)",
    description: "Scores a folder of predicted masks (from any tool) against ground truth, the SSBC 2020 way.",
    examples: ["mu-pipe score my-masks/ --ground-truth gt/"],
    load: async () => (await import("./commands/score.js")).scoreCommand,
  },
  setup: {
    summary: "build an optional fast backend (native TensorFlow from a pip wheel)",
    description: "Builds the native TensorFlow backend against a TensorFlow pip wheel.",
    examples: ["mu-pipe setup tensorflow         # CPU", "mu-pipe setup tensorflow --gpu   # CUDA 12"],
    load: async () => (await import("./commands/setup.js")).setupCommand,
  },
  doctor: {
    summary: "show which compute backends work here and how to get a faster one",
    description: "Tries each compute backend and says which work here, how fast each is, and how to enable a faster one.",
    examples: ["mu-pipe doctor", "mu-pipe doctor --format json"],
    load: async () => (await import("./commands/doctor.js")).doctorCommand,
  },
  predict: {
    summary: "predict sclera masks for images with a trained model",
    description: "Predicts sclera masks for any images with a trained model: a run's (by default the newest run that has one) or a model folder.",
    examples: ["mu-pipe predict --model latest my-photos/ --out my-masks/ --overlays"],
    load: async () => (await import("./commands/predict.js")).predictCommand,
  },
  export: {
    summary: "export a trained model: TF.js, Keras, a web app, or a checked TFLite/ONNX file",
    description:
      "Exports a run's trained model (or a model folder) for use outside mu-pipe. TFLite and ONNX files check themselves on the run's test split before the command says done (F1 beside the TF.js model's, size, largest probability difference, latency) and fail (exit 1, file kept) when F1 drops by more than --tolerance.",
    examples: [
      "mu-pipe export latest --format tfjs --out model-web/",
      "mu-pipe export latest --format web --out site/                              # open site/index.html: photos and camera",
      "mu-pipe export latest --format tflite --quantize int8 --out mu_net.tflite   # phones: camera bytes in, uint8 out",
      "mu-pipe export latest --format onnx --out mu_net.onnx                       # ONNX Runtime (Mobile, Web, Node)",
    ],
    load: async () => (await import("./commands/export.js")).exportCommand,
  },
  cancel: {
    summary: "cancel a Slurm run's queued and running jobs",
    description: "Cancels (scancel) the Slurm jobs of a run submitted with --executor slurm that are still queued or running. A fine-tune keeps its last epoch checkpoint; running the experiment again resumes it.",
    examples: ["mu-pipe cancel                 # the latest run", "mu-pipe cancel eyes-dev-cv     # the newest run of that experiment"],
    load: async () => (await import("./commands/cancel.js")).cancelCommand,
  },
  "run-stage": {
    summary: "run one stage from a job file (used by --jobs workers and Slurm jobs)",
    description: "Runs the one stage a job file (<run>/jobs/<stage>.json) names, deciding it afresh from the store, and prints job messages for the process that owns the run. mu-pipe starts it; rerunning a job file by hand is safe.",
    examples: ["mu-pipe run-stage runs/20261203T101500Z-quickstart/jobs/finetune1.json"],
    hidden: true,
    load: async () => (await import("./commands/run-stage.js")).runStageCommand,
  },
};

/** `mu-pipe help <verb>` and `<verb> --help`: description, usage with every option, notes, examples. */
export function verbHelp(verb: Verb, command: Command): string {
  const parts = [verb.description, command.usage];
  if (verb.notes) parts.push(verb.notes);
  parts.push(`examples:\n${verb.examples.map((example) => `  ${example}`).join("\n")}`);
  return `${parts.join("\n\n")}\n`;
}
