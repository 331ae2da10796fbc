// `npm run bench`: MU-Net (alpha 0.35, 224x224, batch 8) on every backend this machine
// has: training images/s (forward + backward + Nadam; encoder frozen and all layers),
// inference images/s (batch norm folded, as predict and validation run) and peak memory, as a table and as JSON. Each backend runs in its
// own process (TF.js keeps one backend per process) via bench/train-throughput.mjs.
// The pure-JS backend (about 0.01 images/s at 224) trains only with --include-cpu-training.
// Usage: npm run bench [-- --steps 5] [-- --include-cpu-training]
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { probeBackends } from "../dist/stages/runtime/probe.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { steps: { type: "string", default: "5" }, "include-cpu-training": { type: "boolean", default: false } } });

const rows = [];
for (const probe of await probeBackends()) {
  if (!probe.available) {
    rows.push({ backend: probe.name, available: false, why: probe.detail });
    continue;
  }
  const inferOnly = probe.name === "cpu" && !values["include-cpu-training"];
  const steps = probe.name === "cpu" ? "1" : values.steps;
  const args = [path.join(root, "bench/train-throughput.mjs"), "--backend", probe.name, "--steps", steps, ...(inferOnly ? ["--infer-only"] : [])];
  try {
    const out = execFileSync(process.execPath, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" } });
    const json = JSON.parse(out.trim().split("\n").pop());
    rows.push({ backend: probe.name, available: true, ...json, note: inferOnly ? "training skipped (slow)" : "" });
  } catch (error) {
    rows.push({ backend: probe.name, available: true, error: String(error.stderr ?? error.message).trim().split("\n").slice(-3).join(" ") });
  }
}

const fmt = (v) => (typeof v === "number" ? v.toFixed(2) : "-");
console.log("MU-Net alpha 0.35, 224x224, batch 8 (images/s)");
console.log(["backend".padEnd(15), "train frozen".padStart(12), "train all".padStart(10), "infer".padStart(8), "peak MiB".padStart(9), "  note"].join(" "));
for (const r of rows) {
  const note = !r.available ? `unavailable: ${r.why}` : r.error ? `failed: ${r.error}` : r.note;
  console.log(
    [r.backend.padEnd(15), fmt(r.train_frozen_encoder_images_per_s).padStart(12), fmt(r.train_all_images_per_s).padStart(10), fmt(r.infer_images_per_s).padStart(8), String(r.peak_rss_mib ?? "-").padStart(9), `  ${note}`].join(" "),
  );
}
console.log(JSON.stringify({ model: "mu-net alpha 0.35", size: 224, batch: 8, backends: rows }));
