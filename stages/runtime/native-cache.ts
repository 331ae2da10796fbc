/**
 * A copy of each native binding `mu-pipe setup tensorflow` built, kept outside
 * node_modules so `npm ci` (which deletes node_modules) does not cost a rebuild: where the
 * backend is chosen, a missing binding is put back from here in milliseconds.
 *
 * Layout: `<cache>/native/<package>@<version>/<entry>/` with `tfjs_binding.node` and
 * `entry.json`, one entry per TensorFlow wheel and Node ABI (`process.versions.modules`).
 * `<cache>` is `$MU_PIPE_CACHE`, else `$XDG_CACHE_HOME/mu-pipe`, else `~/.cache/mu-pipe`.
 *
 * The binding is not self-sufficient: it links the wheel's libtensorflow. An entry
 * records where the wheel's libraries were and their sizes and times, and is restored
 * only while they are still there, unchanged (an upgraded wheel needs a rebuild).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { linkLibraries } from "./native-build.js";
import { BINDING_PATH, BUILD_STAMP, installRoot, nativeStatus, tfjsVersion, type BuildStamp, type NativeBackend, type NativeStatus } from "./native-package.js";

export const CACHE_ENTRY_VERSION = 1;

/** The wheel files the binding loads; an entry is valid while these are unchanged. */
const WHEEL_LIBRARIES = ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"];

export interface CacheEntry {
  readonly version: typeof CACHE_ENTRY_VERSION;
  readonly packageName: string;
  readonly packageVersion: string;
  readonly tensorflowVersion: string;
  /** The wheel's `tensorflow` folder the binding links against. */
  readonly tensorflowDir: string;
  readonly python: string;
  /** `process.versions.modules` of the node that built it. */
  readonly nodeAbi: string;
  readonly platform: string;
  readonly arch: string;
  /** Size and modification time of each wheel library when the binding was built. */
  readonly wheelLibraries: Readonly<Record<string, { readonly size: number; readonly mtimeMs: number }>>;
  readonly builtAt: string;
}

export type RestoreResult =
  | { readonly kind: "restored"; readonly entryDir: string; readonly entry: CacheEntry; readonly ms: number }
  /** Nothing usable; `why` says what was found (for `doctor`), `wheels` the wheels stale entries name that still exist. */
  | { readonly kind: "none"; readonly why: string; readonly wheels: readonly { readonly tensorflowDir: string; readonly python: string }[] };

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MU_PIPE_CACHE) return path.resolve(env.MU_PIPE_CACHE);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), "mu-pipe");
  return path.join(os.homedir(), ".cache", "mu-pipe");
}

function packageFolder(root: string, packageName: string, version: string): string {
  return path.join(root, "native", `${packageName.replace("/", "+")}@${version}`);
}

function entryName(tensorflowVersion: string): string {
  return `tf-${tensorflowVersion}-node-abi${process.versions.modules}-${process.platform}-${process.arch}`;
}

function wheelLibraries(tensorflowDir: string): CacheEntry["wheelLibraries"] | null {
  const out: Record<string, { size: number; mtimeMs: number }> = {};
  for (const name of WHEEL_LIBRARIES) {
    try {
      const stat = statSync(path.join(tensorflowDir, name));
      out[name] = { size: stat.size, mtimeMs: Math.round(stat.mtimeMs) };
    } catch {
      return null;
    }
  }
  return out;
}

/** Why an entry cannot be restored here; null when it can. */
function entryProblem(entry: CacheEntry): string | null {
  if (entry.version !== CACHE_ENTRY_VERSION) return `entry format ${String(entry.version)}`;
  if (entry.nodeAbi !== process.versions.modules || entry.platform !== process.platform || entry.arch !== process.arch) {
    return `built for Node ABI ${entry.nodeAbi} (${entry.platform}-${entry.arch}), this is ${process.versions.modules} (${process.platform}-${process.arch})`;
  }
  const now = wheelLibraries(entry.tensorflowDir);
  if (now === null) return `the TensorFlow ${entry.tensorflowVersion} wheel it links is gone (${entry.tensorflowDir})`;
  const changed = WHEEL_LIBRARIES.filter((name) => now[name]?.size !== entry.wheelLibraries[name]?.size || now[name]?.mtimeMs !== entry.wheelLibraries[name]?.mtimeMs);
  if (changed.length > 0) return `the wheel at ${entry.tensorflowDir} changed since (${changed.join(", ")})`;
  return null;
}

function readEntry(dir: string): CacheEntry | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, "entry.json"), "utf8")) as CacheEntry;
  } catch {
    return null;
  }
}

/** Copies a checked binding (and its build stamp) into the cache; returns the entry folder. */
export function saveToCache(status: NativeStatus, root: string = cacheRoot()): string | null {
  if (status.version === null || !status.bindingBuilt || status.stamp === null) return null;
  const libraries = wheelLibraries(status.stamp.tensorflowDir);
  if (libraries === null) return null;
  const entry: CacheEntry = {
    version: CACHE_ENTRY_VERSION,
    packageName: status.packageName,
    packageVersion: status.version,
    tensorflowVersion: status.stamp.tensorflowVersion,
    tensorflowDir: status.stamp.tensorflowDir,
    python: status.stamp.python,
    nodeAbi: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    wheelLibraries: libraries,
    builtAt: status.stamp.builtAt,
  };
  const dir = path.join(packageFolder(root, status.packageName, status.version), entryName(entry.tensorflowVersion));
  mkdirSync(dir, { recursive: true });
  // Written under temporary names, then renamed: a reader never sees half a file.
  const binding = path.join(dir, "tfjs_binding.node");
  copyFileSync(path.join(status.dir, BINDING_PATH), `${binding}.${process.pid}.tmp`);
  renameSync(`${binding}.${process.pid}.tmp`, binding);
  writeFileSync(path.join(dir, `entry.json.${process.pid}.tmp`), `${JSON.stringify(entry, null, 2)}\n`);
  renameSync(path.join(dir, `entry.json.${process.pid}.tmp`), path.join(dir, "entry.json"));
  return dir;
}

/**
 * Puts a cached binding for this package version, Node ABI and a still-present wheel
 * into the package folder (binding, deps/ links into the wheel, build stamp). Only
 * when the package is installed at the right version and its binding is missing.
 */
export async function restoreFromCache(status: NativeStatus, root: string = cacheRoot()): Promise<RestoreResult> {
  const started = performance.now();
  if (status.version === null) return { kind: "none", why: `${status.packageName} is not installed`, wheels: [] };
  const folder = packageFolder(root, status.packageName, status.version);
  let names: string[] = [];
  try {
    names = readdirSync(folder).sort().reverse(); // newest TensorFlow first
  } catch {
    return { kind: "none", why: `no binding of ${status.packageName}@${status.version} in ${folder}`, wheels: [] };
  }
  const problems: string[] = [];
  const wheels = new Map<string, { tensorflowDir: string; python: string }>();
  for (const name of names) {
    const dir = path.join(folder, name);
    const entry = readEntry(dir);
    if (entry === null || !existsSync(path.join(dir, "tfjs_binding.node"))) continue;
    if (wheelLibraries(entry.tensorflowDir) !== null) wheels.set(entry.tensorflowDir, { tensorflowDir: entry.tensorflowDir, python: entry.python });
    const problem = entryProblem(entry);
    if (problem) {
      problems.push(`${name}: ${problem}`);
      continue;
    }
    const target = path.join(status.dir, BINDING_PATH);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(path.join(dir, "tfjs_binding.node"), `${target}.${process.pid}.tmp`);
    renameSync(`${target}.${process.pid}.tmp`, target);
    await linkLibraries(status.dir, entry.tensorflowDir);
    const stamp: BuildStamp = { version: 1, tensorflowVersion: entry.tensorflowVersion, tensorflowDir: entry.tensorflowDir, python: entry.python, builtAt: entry.builtAt };
    writeFileSync(path.join(status.dir, BUILD_STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
    return { kind: "restored", entryDir: dir, entry, ms: performance.now() - started };
  }
  const why = problems.length > 0 ? `no usable binding in ${folder}: ${problems.join("; ")}` : `no binding of ${status.packageName}@${status.version} in ${folder}`;
  return { kind: "none", why, wheels: [...wheels.values()] };
}

/**
 * Where a backend is chosen: when `backend`'s package is installed at the version
 * @tensorflow/tfjs needs but has no binding (npm ci removed it), restores one from the
 * cache. Null when there was nothing to do; never throws (a failed restore is "none").
 */
export async function restoreIfMissing(backend: NativeBackend, root: string = installRoot(), env: NodeJS.ProcessEnv = process.env): Promise<RestoreResult | null> {
  try {
    const status = nativeStatus(backend, root);
    if (status.version === null || status.bindingBuilt || status.version !== tfjsVersion()) return null;
    return await restoreFromCache(status, cacheRoot(env));
  } catch (error) {
    return { kind: "none", why: `restoring from the cache failed: ${error instanceof Error ? error.message : String(error)}`, wheels: [] };
  }
}
