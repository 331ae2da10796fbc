/**
 * The native backend survives `npm ci`, for real, in a copy of this checkout (the
 * worktree's own node_modules is never touched): `mu-pipe setup tensorflow`, delete
 * node_modules, `npm ci`, and the next choice of backend is tensorflow again, its binding
 * restored from the cache (MU_PIPE_CACHE in the copy) without a rebuild.
 *
 * It needs a TensorFlow wheel and a compiler. Without them it is skipped, saying why;
 * in CI (CI=true, where .ci/run sets the backend up) it fails instead.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { repoRoot } from "../pipeline/engine-rig.js";

const inCi = process.env.CI === "true";
const tensorflow = spawnSync("python3", ["-c", "import tensorflow"], { encoding: "utf8", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" } });
const missing = tensorflow.status === 0 ? null : `python3 cannot import tensorflow (${(tensorflow.stderr ?? tensorflow.error?.message ?? "").trim().split("\n").at(-1) ?? ""})`;

const copy = mkdtempSync(path.join(os.tmpdir(), "mu-pipe-npm-ci-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

function run(command: string, args: readonly string[]): SpawnSyncReturns<string> {
  const env = { ...process.env, MU_PIPE_CACHE: path.join(copy, "cache"), TF_CPP_MIN_LOG_LEVEL: "3", npm_config_audit: "false", npm_config_fund: "false" };
  const result = spawnSync(command, args, { cwd: copy, env, encoding: "utf8", timeout: 600_000 });
  return result;
}

function expectOk(result: SpawnSyncReturns<string>, what: string): void {
  expect(result.status, `${what} failed:\n${result.stdout}\n${result.stderr}`.slice(-3000)).toBe(0);
}

const CHOOSE = `
import("./dist/stages/runtime/backend.js").then(async ({ initBackend }) => {
  const log = [];
  const info = await initBackend("auto", { purpose: "train", log: (line) => log.push(line) });
  process.stdout.write(JSON.stringify({ name: info.name, log }) + "\\n");
});
`;

it.skipIf(missing !== null && !inCi)(`setup, rm -rf node_modules, npm ci: the tensorflow backend is back${missing && !inCi ? ` (skipped: ${missing}; pip install tensorflow-cpu to run it)` : ""}`, (context) => {
  if (missing !== null) expect.fail(`CI=true but the native backend cannot be built here: ${missing}`);
  const files = spawnSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const file of files) cpSync(path.join(repoRoot, file), path.join(copy, file), { recursive: true, dereference: false });

  expectOk(run("npm", ["ci"]), "npm ci");
  const setup = run(process.execPath, ["bin/mu-pipe.js", "setup", "tensorflow"]);
  if (setup.status !== 0 && !inCi) {
    context.skip(`mu-pipe setup tensorflow cannot build here: ${setup.stderr.trim().split("\n")[0] ?? ""}`);
    return;
  }
  expectOk(setup, "mu-pipe setup tensorflow");
  expect(setup.stdout).toMatch(/^cache {6}binding kept in /m);

  rmSync(path.join(copy, "node_modules"), { recursive: true, force: true });
  expectOk(run("npm", ["ci"]), "npm ci after deleting node_modules");

  const chosen = run(process.execPath, ["-e", CHOOSE]);
  expectOk(chosen, "choosing the backend");
  const { name, log } = JSON.parse(chosen.stdout.trim().split("\n").at(-1) ?? "{}") as { name: string; log: string[] };
  expect(name).toBe("tensorflow");
  expect(log.join("\n")).toMatch(/^tensorflow: binding restored from .*\/cache\/native\/@tensorflow\+tfjs-node@4\.22\.0\/tf-[\d.]+-node-abi\d+-linux-x64 in \d+ ms \(npm ci had removed it\)$/m);
}, 900_000);
