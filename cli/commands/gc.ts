import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MuPipeError } from "../../pipeline/failure.js";
import { isProcessAlive } from "../../pipeline/store/atomic-file.js";
import type { RunRecord } from "../../pipeline/formats.js";
import { RUN_FILE } from "../../pipeline/run-directory.js";
import { openStore } from "../../pipeline/store/fs-store.js";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";

const usage = `usage: mu-pipe gc [--dry-run] [--runs-dir runs] [--store <runs-dir>/.store]

Removes stored artifacts that no run directory links to (delete a run folder first
to let its artifacts go), records that point at removed artifacts, and temp folders
left by killed runs.`;

const options = {
  "dry-run": { type: "boolean" },
  "runs-dir": { type: "string", default: "runs" },
  store: { type: "string" },
} as const;

interface RunsScan {
  /** Every artifact digest some run directory still refers to. */
  readonly keep: Set<string>;
  /** Runs whose process is still alive on this host. */
  readonly live: string[];
}

async function scanRuns(runsDir: string): Promise<RunsScan> {
  const keep = new Set<string>();
  const live: string[] = [];
  for (const name of await fs.readdir(runsDir).catch(() => [] as string[])) {
    if (name.startsWith(".") || name === "latest") continue;
    try {
      const run = JSON.parse(await fs.readFile(path.join(runsDir, name, RUN_FILE), "utf8")) as RunRecord;
      for (const stage of run.stages) if (stage.artifactDigest) keep.add(stage.artifactDigest);
      if (run.status === "running" && run.hostname === os.hostname() && isProcessAlive(run.pid)) live.push(`${name} (pid ${run.pid})`);
    } catch {
      // Not a run directory (or one killed before its run.json): it references nothing.
    }
  }
  return { keep, live };
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export const gcCommand: Command = {
  name: "gc",
  summary: "remove unreferenced store entries",
  usage,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, options, usage);
    const runsDir = path.resolve(io.cwd, values["runs-dir"]);
    const store = await openStore(path.resolve(io.cwd, values.store ?? path.join(values["runs-dir"], ".store")));
    const dryRun = values["dry-run"] ?? false;
    const { keep, live } = await scanRuns(runsDir);
    if (live.length > 0 && !dryRun) {
      // A live run may be about to reuse an artifact it has looked up but not linked yet.
      throw new MuPipeError({ reason: "usage", message: `a run is in progress: ${live.join(", ")}; run gc when it has finished` });
    }
    const result = await store.gc(keep, { dryRun });
    const verb = dryRun ? "would remove" : "removed";
    io.out(
      `${verb} ${result.removedArtifacts.length} artifact(s), ${result.removedRecords.length} record(s), ${result.removedTemp.length} temp folder(s); ${formatBytes(result.freedBytes)} ${dryRun ? "would be " : ""}freed`,
    );
    return 0;
  },
};
