/** Sweep records: found by the names users give them, and a killed sweep reads as `died`. */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SweepLog, listSweeps, resolveSweep } from "../../pipeline/sweep/sweep-record.js";

const keys = [{ key: "stages.b.params.lr", short: "lr", repeat: false }];

async function sweepIn(runsDir: string, experiment: string, at: string): Promise<SweepLog> {
  return SweepLog.create({ runsDir, experiment, configFile: "x.yaml", argv: [], keys, combinations: [{ label: "lr=1", values: { "stages.b.params.lr": 1 } }], now: new Date(at) });
}

describe("sweep records", () => {
  it("resolves latest, latest~1, an experiment, an id prefix and the name of one of its runs", async () => {
    const runsDir = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-sweeps-"));
    const a = await sweepIn(runsDir, "toy", "2026-12-01T10:00:00Z");
    const b = await sweepIn(runsDir, "other", "2026-12-02T10:00:00Z");
    await a.update(0, "20261201T100001Z-toy[lr=1]", "succeeded");
    expect((await resolveSweep(runsDir)).id).toBe(b.id);
    expect((await resolveSweep(runsDir, "latest~1")).id).toBe(a.id);
    expect((await resolveSweep(runsDir, "toy")).id).toBe(a.id);
    expect((await resolveSweep(runsDir, "20261201")).id).toBe(a.id);
    expect((await resolveSweep(runsDir, "20261201T100001Z-toy[lr=1]")).id).toBe(a.id);
    await expect(resolveSweep(runsDir, "nope")).rejects.toThrow("sweep not found: nope");
  });

  it("says a running sweep whose process is gone died", async () => {
    const runsDir = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-sweeps-"));
    const log = await sweepIn(runsDir, "toy", "2026-12-01T10:00:00Z");
    expect((await listSweeps(runsDir)).map((s) => s.status)).toEqual(["running"]);
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    const record = JSON.parse(await readFile(log.file, "utf8")) as Record<string, unknown>;
    await writeFile(log.file, JSON.stringify({ ...record, pid: gone }));
    expect((await listSweeps(runsDir)).map((s) => s.status)).toEqual(["died"]);
  });
});
