/**
 * `runs/.sweeps/<id>.json`: what a sweep set out to run and which run each combination
 * became. Written before the first run starts (every combination `pending`) and after
 * each one ends, so an interrupted sweep still shows what it did not get to.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MuPipeError } from "../failure.js";
import type { RunStatus, SweepCombinationEntry, SweepRecord, SweepStatus } from "../formats.js";
import { writeFileAtomic } from "../store/atomic-file.js";

export const SWEEPS_DIR = ".sweeps";

export interface SweepLogOptions {
  readonly runsDir: string;
  readonly experiment: string;
  readonly configFile: string;
  readonly argv: readonly string[];
  readonly keys: SweepRecord["keys"];
  readonly combinations: readonly Pick<SweepCombinationEntry, "label" | "values">[];
  readonly now?: Date;
}

export class SweepLog {
  private constructor(
    readonly file: string,
    private record: SweepRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }

  /** Claims `<stamp>-<experiment>` (with a suffix if taken) and writes the pending record. */
  static async create(options: SweepLogOptions): Promise<SweepLog> {
    const now = options.now ?? new Date();
    const dir = path.join(options.runsDir, SWEEPS_DIR);
    await fs.mkdir(dir, { recursive: true });
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    let id = `${stamp}-${options.experiment}`;
    for (let suffix = 2; ; suffix += 1) {
      try {
        await fs.writeFile(path.join(dir, `${id}.json`), "", { flag: "wx" });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        id = `${stamp}-${options.experiment}-${suffix}`;
      }
    }
    const record: SweepRecord = {
      version: 1,
      id,
      experiment: options.experiment,
      configFile: options.configFile,
      argv: options.argv,
      status: "running",
      startedAt: now.toISOString(),
      finishedAt: null,
      pid: process.pid,
      hostname: os.hostname(),
      keys: options.keys,
      combinations: options.combinations.map((c) => ({ label: c.label, values: c.values, runId: null, status: "pending" })),
    };
    const log = new SweepLog(path.join(dir, `${id}.json`), record);
    await log.save();
    return log;
  }

  async update(index: number, runId: string, status: RunStatus): Promise<void> {
    this.record = { ...this.record, combinations: this.record.combinations.map((c, i) => (i === index ? { ...c, runId, status } : c)) };
    await this.save();
  }

  async finish(status: SweepStatus, finishedAt = new Date()): Promise<void> {
    this.record = { ...this.record, status, finishedAt: finishedAt.toISOString() };
    await this.save();
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(this.record, null, 2)}\n`);
  }
}

/** Every readable sweep record under `runsDir`, newest first. */
export async function listSweeps(runsDir: string): Promise<SweepRecord[]> {
  const dir = path.join(runsDir, SWEEPS_DIR);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const records: SweepRecord[] = [];
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    try {
      const value = JSON.parse(await fs.readFile(path.join(dir, name), "utf8")) as Partial<SweepRecord> | null;
      if (value?.version === 1 && typeof value.id === "string" && Array.isArray(value.combinations)) records.push(withLiveness(value as SweepRecord));
    } catch {
      // Claimed but not yet written, or half-written: not a sweep to show.
    }
  }
  return records.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : -1));
}

/**
 * The sweep a user means: `latest` (default), `latest~N`, its id or a unique prefix, an
 * experiment name (its newest sweep), or the name of one of its runs.
 */
export async function resolveSweep(runsDir: string, query = "latest"): Promise<SweepRecord> {
  const sweeps = await listSweeps(runsDir);
  const notFound = (candidates: readonly SweepRecord[]): MuPipeError =>
    new MuPipeError({ reason: "not-found", what: "sweep", query, candidates: candidates.slice(0, 10).map((s) => s.id) });
  const exact = sweeps.find((s) => s.id === query);
  if (exact) return exact;
  const back = /^(.+?)(?:~(\d+))?$/.exec(query);
  const base = back?.[1] ?? query;
  const steps = back?.[2] === undefined ? 0 : Number(back[2]);
  const pick = (list: readonly SweepRecord[]): SweepRecord => {
    const found = list[steps];
    if (!found) throw notFound(list.length > 0 ? list : sweeps);
    return found;
  };
  if (base === "latest") return pick(sweeps);
  const ofExperiment = sweeps.filter((s) => s.experiment === base);
  if (ofExperiment.length > 0) return pick(ofExperiment);
  const holding = sweeps.find((s) => s.combinations.some((c) => c.runId !== null && path.basename(query) === c.runId));
  if (holding) return holding;
  const prefixed = sweeps.filter((s) => s.id.startsWith(query));
  if (prefixed.length === 1 && prefixed[0]) return prefixed[0];
  throw notFound(prefixed.length > 1 ? prefixed : sweeps);
}

/** Whether `query` names a sweep (and not, say, a run); for commands that take either. */
export async function findSweep(runsDir: string, query: string): Promise<SweepRecord | null> {
  const sweeps = await listSweeps(runsDir);
  return sweeps.find((s) => s.id === query) ?? null;
}

/** A `running` sweep whose process is gone from this host `died`; on another host we cannot tell. */
function withLiveness(record: SweepRecord): SweepRecord {
  if (record.status !== "running" || record.pid === undefined || record.hostname !== os.hostname() || isAlive(record.pid)) return record;
  return { ...record, status: "died" };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
