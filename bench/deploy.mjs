// `npm run bench:deploy`: what shipping a MU-Net costs in each format (issue 16). For the
// quickstart model and a 224x224 one, every format x quantisation mu-pipe exports: file
// size, F1 on the run's test split (as the export self-check computes it) and its change
// against the TF.js model, and ms per image on one thread in the runtime that runs it:
// TFLite interpreter (tflite rows), onnxruntime-node (onnx), tfjs-node and headless
// Chromium's wasm and webgl (tfjs, through `--format web`).
//
// Each model is trained by `mu-pipe run configs/quickstart.yaml` in a project folder of its
// own under --project (a temporary folder when not given, kept and named at the end):
// again with the same folder, every stage is a cache hit and nothing trains. --quick skips
// the 224x224 model. Exports go to <project>/<model>/deploy/, through the CLI as a user
// runs them. Latencies come from the check files (TFLite) and from bench/deploy-latency.mjs
// and bench/deploy-browser.mjs, each in a process of its own.
// Writes the markdown to stdout and to --out (default bench/results/deploy-<YYYYMMDD>.md).
// Usage: npm run bench:deploy [-- --project <dir>] [-- --quick] [-- --runs 30] [-- --warmup 5] [-- --out <file>]
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { deployReport } from "./deploy-report.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    project: { type: "string" },
    quick: { type: "boolean", default: false },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "5" },
    out: { type: "string" },
  },
});
const stamp = new Date().toISOString();
const outFile = path.resolve(values.out ?? path.join(root, "bench", "results", `deploy-${stamp.slice(0, 10).replaceAll("-", "")}.md`));
const projects = path.resolve(values.project ?? mkdtempSync(path.join(os.tmpdir(), "mu-deploy-bench-")));
const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" };
const timing = ["--runs", values.runs, "--warmup", values.warmup];

const MODELS = [
  { name: "quickstart", title: "Quickstart model: MU-Net at 64x64, configs/quickstart.yaml as it is (synthetic close-up eyes)", sets: [] },
  {
    name: "size224",
    title:
      "224x224 MU-Net trained briefly (quickstart pipeline, 1 + 1 epochs) on the synthetic quickstart data; eyes-dev-sized input, not the eyes-dev data (training that at 224 takes hours on this CPU)",
    sets: ["stages.resize.params.size=224", "stages.finetune1.params.epochs=1", "stages.finetune2.params.epochs=1"],
  },
];
const TFLITE_QUANTISATIONS = ["none", "float16", "int8"];

function progress(message) {
  console.error(`[bench:deploy] ${message}`);
}

function muPipe(args, cwd, log) {
  const started = performance.now();
  try {
    const output = execFileSync(process.execPath, [path.join(root, "bin", "mu-pipe.js"), ...args], { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
    if (log) writeFileSync(log, output);
    return { ok: true, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    const text = `${error.stdout ?? ""}${error.stderr ?? ""}`;
    if (log) writeFileSync(log, text);
    return { ok: false, error: text.trim().split("\n").slice(-2).join(" ") || String(error.message) };
  }
}

/** Runs a bench child that prints one JSON line; { error } when it fails. */
function childJson(command, args) {
  try {
    const output = execFileSync(command, args, { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 });
    return JSON.parse(output.trim().split("\n").pop());
  } catch (error) {
    return { error: String(error.stderr || error.message).trim().split("\n").slice(-2).join(" ") };
  }
}

function readJson(file) {
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
}

/** Trains (or, with every stage cached, just re-runs) one model's project; its deploy folder. */
function train(model) {
  const dir = path.join(projects, model.name);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, "configs"))) cpSync(path.join(root, "configs"), path.join(dir, "configs"), { recursive: true });
  progress(`${model.name}: mu-pipe run configs/quickstart.yaml ${model.sets.map((s) => `--set ${s}`).join(" ")} (cached stages are reused; log: ${path.join(dir, "run.log")})`);
  const run = muPipe(["run", "configs/quickstart.yaml", ...model.sets.flatMap((s) => ["--set", s])], dir, path.join(dir, "run.log"));
  if (!run.ok) throw new Error(`${model.name}: training failed: ${run.error}`);
  progress(`${model.name}: run done in ${run.seconds.toFixed(0)} s`);
  return dir;
}

/** Every export of the project's latest run, and what it measured; one row per format x quantisation. */
function measure(model, dir) {
  const deploy = path.join(dir, "deploy");
  const notes = [];
  const exportTo = (format, out, extra = []) => {
    progress(`${model.name}: export --format ${format} ${extra.join(" ")}`);
    const result = muPipe(["export", "latest", "--format", format, "--out", out, "--force", ...extra], dir, `${out}.log`);
    if (!result.ok) notes.push(`export --format ${format} ${extra.join(" ")} failed: ${result.error}`);
    return result.ok;
  };
  mkdirSync(deploy, { recursive: true });
  const tfjsDir = path.join(deploy, "tfjs");
  const webDir = path.join(deploy, "web");
  const tfjsOk = exportTo("tfjs", tfjsDir);
  const webOk = exportTo("web", webDir);
  const checks = {};
  for (const quantize of TFLITE_QUANTISATIONS) {
    const file = path.join(deploy, `mu_net_${quantize}.tflite`);
    // --tolerance 1: measure every quantisation, however far its F1 drops (the table shows it).
    checks[`tflite ${quantize}`] = exportTo("tflite", file, ["--quantize", quantize, "--tolerance", "1"]) ? readJson(`${file}.check.json`) : null;
  }
  const onnxFile = path.join(deploy, "mu_net.onnx");
  checks.onnx = exportTo("onnx", onnxFile, ["--tolerance", "1"]) ? readJson(`${onnxFile}.check.json`) : null;

  const size = tfjsOk ? readJson(path.join(tfjsDir, "mu-model.json"))?.inputSize : null;
  let tfjsNode = null;
  let browser = null;
  let onnx = null;
  if (tfjsOk && size) {
    progress(`${model.name}: tfjs-node latency`);
    tfjsNode = childJson(process.execPath, [path.join(root, "bench", "deploy-latency.mjs"), "--runtime", "tfjs-node", "--model", tfjsDir, "--size", String(size), ...timing]);
    if (tfjsNode.error) notes.push(`tfjs-node: ${tfjsNode.error}`);
  }
  if (checks.onnx && size) {
    progress(`${model.name}: onnxruntime-node latency`);
    onnx = childJson(process.execPath, [path.join(root, "bench", "deploy-latency.mjs"), "--runtime", "onnx", "--model", onnxFile, "--size", String(size), ...timing]);
    if (onnx.error) notes.push(`onnxruntime-node: ${onnx.error}`);
  }
  if (webOk) {
    progress(`${model.name}: Chromium wasm and webgl latency`);
    // Pinned to one core (the browser's GPU process too), so SwiftShader's WebGL does not spread over the machine.
    const pin = existsSync("/usr/bin/taskset") ? ["/usr/bin/taskset", ["-c", "0", process.execPath]] : [process.execPath, []];
    browser = childJson(pin[0], [...pin[1], path.join(root, "bench", "deploy-browser.mjs"), "--site", webDir, ...timing]);
    if (browser.error) notes.push(`Chromium: ${browser.error}`);
    for (const backend of ["wasm", "webgl"]) if (browser[backend]?.error) notes.push(`Chromium ${backend}: ${browser[backend].error}`);
    if (browser.webgl?.renderer) notes.push(`Chromium webgl renderer: ${browser.webgl.renderer} (software: --disable-gpu; the whole browser pinned to one core with taskset)`);
    for (const backend of ["wasm", "webgl"]) {
      const runs = browser[backend]?.runs;
      if (runs !== undefined && runs < Number(values.runs)) notes.push(`Chromium ${backend}: median of ${runs} runs (the time budget ran out before ${values.runs})`);
    }
  }

  const reference = Object.values(checks).find((check) => check !== null);
  const rows = [
    {
      label: "tfjs (float32)",
      bytes: tfjsOk ? statSync(path.join(tfjsDir, "weights.bin")).size : null,
      f1: reference?.f1.tfjs ?? null,
      deltaF1: reference ? "reference" : null,
      ms: { tfjsNode: tfjsNode?.medianMs, wasm: browser?.wasm?.medianMs, webgl: browser?.webgl?.medianMs },
    },
    ...TFLITE_QUANTISATIONS.map((quantize) => checkRow(`tflite ${quantize}`, checks[`tflite ${quantize}`], { tflite: checks[`tflite ${quantize}`]?.latencyMs })),
    checkRow("onnx (float32)", checks.onnx, { onnx: onnx?.medianMs }),
  ];
  if (reference) notes.push(`test split: ${reference.images} images at ${size}x${size}, threshold ${reference.threshold}`);
  return { rows, notes, runtimes: { tfjsNode: tfjsNode?.runtime, onnx: onnx?.runtime, chromium: browser?.chromium } };
}

function checkRow(label, check, latency) {
  return { label, bytes: check?.bytes ?? null, f1: check?.f1.exported ?? null, deltaF1: check ? check.f1.exported - check.f1.tfjs : null, ms: latency };
}

function packageVersion(name) {
  return readJson(path.join(root, "node_modules", name, "package.json"))?.version ?? "?";
}

function pythonVersions() {
  const python = process.env.MU_PIPE_PYTHON ?? "python3";
  const script = "import tensorflow as tf\ntry:\n import ai_edge_litert as l; r = ' (LiteRT ' + getattr(l, '__version__', '?') + ')'\nexcept ImportError:\n r = ' (tf.lite.Interpreter)'\nprint(tf.__version__ + r)";
  try {
    return `Python TensorFlow ${execFileSync(python, ["-c", script], { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()}`;
  } catch {
    return "Python TensorFlow not found";
  }
}

const models = values.quick ? MODELS.slice(0, 1) : MODELS;
const sections = [];
const runtimes = {};
for (const model of models) {
  const dir = train(model);
  const measured = measure(model, dir);
  for (const [key, value] of Object.entries(measured.runtimes)) if (value) runtimes[key] = value;
  sections.push({ title: model.title, rows: measured.rows, notes: measured.notes });
}

const cpus = os.cpus();
const report = deployReport({
  date: stamp.slice(0, 10),
  machine: `${cpus[0]?.model ?? "?"}, ${cpus.length} cores (shared), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.versions.node}`,
  versions: [
    `@tensorflow/tfjs ${packageVersion("@tensorflow/tfjs")}`,
    `@tensorflow/tfjs-backend-wasm ${packageVersion("@tensorflow/tfjs-backend-wasm")}`,
    runtimes.tfjsNode ?? `@tensorflow/tfjs-node ${packageVersion("@tensorflow/tfjs-node")}`,
    runtimes.onnx ?? `onnxruntime-node ${packageVersion("onnxruntime-node")}`,
    pythonVersions(),
    `Chromium ${runtimes.chromium ?? "?"} (playwright-core ${packageVersion("playwright-core")})`,
  ].join("; "),
  command: `npm run bench:deploy${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
  models: sections,
  method: [
    "size: the exported file (tfjs: weights.bin; model.json adds a few KiB). MU-Net is fully convolutional: its weights do not depend on the input size, so a 64- and a 224-pixel model's files are the same size.",
    "F1: pooled over every pixel of the run's test split at the model's input size, at the model's threshold, as `mu-pipe export`'s self-check computes it (the `.check.json` files); ΔF1 = exported F1 − TF.js F1.",
    "TFLite interpreter: the self-check's median over the test images, one image per invoke, num_threads=1.",
    `onnxruntime-node and tfjs-node: bench/deploy-latency.mjs, median of ${values.runs} one-image predictions after ${values.warmup} warm-up, one intra-op and one inter-op thread, output read back. tfjs-node runs the exported TF.js folder as shipped (batch norm not folded; \`mu-pipe predict\` folds it).`,
    `Chromium: bench/deploy-browser.mjs, the \`--format web\` site opened from disk in headless Chromium, the page's model on ?backend=wasm (the site switches tfjs-backend-wasm's threads off: one thread) and ?backend=webgl (--disable-gpu: SwiftShader, software rendering); median of ${values.runs} one-image predictions after ${values.warmup} warm-up, output read back; the browser pinned to one core with taskset.`,
    "\"-\": not measured for that format in that runtime.",
  ],
});

mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, report);
console.log(report);
const shownOut = outFile.startsWith(`${process.cwd()}${path.sep}`) ? path.relative(process.cwd(), outFile) : outFile;
progress(`written to ${shownOut}; trained projects kept in ${projects} (pass --project ${projects} to reuse them)`);
