// Measures the engine's own overhead: a fully cached re-run of a 7-stage experiment,
// and `status`, each minus Node's bare start-up. Targets (issue #2): re-run < 1 s,
// status < 0.5 s beyond start-up.
// Usage: npm run build && node bench/engine-overhead.mjs [--repeat N]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repeat = Number(process.argv[process.argv.indexOf("--repeat") + 1]) || 5;
const dir = mkdtempSync(path.join(os.tmpdir(), "mu-pipe-bench-"));
const env = { ...process.env, CI: "true", MU_PIPE_PLUGINS: path.join(root, "test/toy-stages.mjs"), TOY_CALLS: "" };

const stages = ["  s1:\n    uses: emit\n    params: { value: 'a' }"];
for (let i = 2; i <= 7; i++) stages.push(`  s${i}:\n    uses: concat\n    inputs: { a: s${i - 1}.out }\n    params: { suffix: '${i}' }`);
writeFileSync(path.join(dir, "seven.yaml"), `experiment: seven\nstages:\n${stages.join("\n")}\n`);

const time = (args) => {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, args, { cwd: dir, env, stdio: "pipe" });
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cli = path.join(root, "bin/mu-pipe.js");

time([cli, "run", "seven.yaml"]); // fills the cache
const bare = median(Array.from({ length: repeat }, () => time(["-e", ""])));
const rerun = median(Array.from({ length: repeat }, () => time([cli, "run", "seven.yaml"])));
const status = median(Array.from({ length: repeat }, () => time([cli, "status", "seven.yaml"])));
rmSync(dir, { recursive: true, force: true });

const result = {
  node_startup_ms: Math.round(bare),
  cached_rerun_ms: Math.round(rerun),
  cached_rerun_beyond_startup_ms: Math.round(rerun - bare),
  status_ms: Math.round(status),
  status_beyond_startup_ms: Math.round(status - bare),
  targets: { cached_rerun_beyond_startup_ms: 1000, status_beyond_startup_ms: 500 },
};
console.log(`7-stage experiment, median of ${repeat}:`);
console.log(`  node start-up            ${result.node_startup_ms} ms`);
console.log(`  cached re-run            ${result.cached_rerun_ms} ms  (${result.cached_rerun_beyond_startup_ms} ms beyond start-up; target < 1000)`);
console.log(`  status                   ${result.status_ms} ms  (${result.status_beyond_startup_ms} ms beyond start-up; target < 500)`);
console.log(JSON.stringify(result));
