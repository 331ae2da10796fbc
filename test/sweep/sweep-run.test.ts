/**
 * Sweeps through the CLI with toy stages: every combination is a run, upstream stages
 * that no swept value touches are computed once, a failed combination does not stop
 * the others, and bad sweeps are refused before anything runs.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { RunRecord, SweepRecord } from "../../pipeline/formats.js";
import { EngineRig } from "../pipeline/engine-rig.js";

const TOY = ["experiment: toy", "stages:", "  a: { uses: emit, params: { value: hello } }", "  b:", "    uses: concat", "    inputs: { a: a }", "    params: { suffix: x }", ""].join("\n");

let rig: EngineRig;
beforeEach(async () => {
  rig = await EngineRig.create();
});

async function runRecords(): Promise<RunRecord[]> {
  const runs = path.join(rig.dir, "runs");
  const names = (await fs.readdir(runs)).filter((n) => !n.startsWith(".") && n !== "latest").sort();
  return Promise.all(names.map(async (n) => JSON.parse(await fs.readFile(path.join(runs, n, "run.json"), "utf8")) as RunRecord));
}

async function sweepRecord(): Promise<SweepRecord> {
  const dir = path.join(rig.dir, "runs", ".sweeps");
  const [name] = await fs.readdir(dir);
  return JSON.parse(await fs.readFile(path.join(dir, name ?? ""), "utf8")) as SweepRecord;
}

describe("mu-pipe run with a sweep", () => {
  it("makes one named run per combination and computes the shared upstream stage once", async () => {
    await rig.write("toy.yaml", `${TOY}sweep:\n  stages.b.params.suffix: [x, yy, zzz]\n`);
    const result = await rig.cli("run", "toy.yaml");
    expect(result.code).toBe(0);
    expect(result.err).toMatch(/^\[sweep\] \d{8}T\d{6}Z-toy: 3 runs\n\[sweep\] 1\/3 \[suffix=x\]\n/);
    expect(await rig.takeCalls()).toEqual(["a", "b", "b", "b"]);

    const records = await runRecords();
    expect(records.map((r) => r.id.replace(/^\d{8}T\d{6}Z-/, ""))).toEqual(["toy[suffix=x]", "toy[suffix=yy]", "toy[suffix=zzz]"].sort());
    const statusesOfA = records.map((r) => r.stages.find((s) => s.id === "a")?.status).sort();
    expect(statusesOfA).toEqual(["reused", "reused", "succeeded"]);
    // One fingerprint for `a` across the sweep: one store record.
    expect(new Set(records.map((r) => r.stages.find((s) => s.id === "a")?.fingerprintKey)).size).toBe(1);
    const sweep = await sweepRecord();
    expect(records.every((r) => r.sweep?.id === sweep.id)).toBe(true);
    expect(records.find((r) => r.sweep?.label === "suffix=yy")?.sweep?.values).toEqual({ "stages.b.params.suffix": "yy" });
    expect(sweep.combinations.map((c) => [c.label, c.status])).toEqual([
      ["suffix=x", "succeeded"],
      ["suffix=yy", "succeeded"],
      ["suffix=zzz", "succeeded"],
    ]);

    const shown = await rig.cli("sweep", "show", "--metric", "b.chars");
    expect(shown.out).toBe(
      [
        `sweep ${sweep.id} (succeeded): 3 runs; sorted by b.chars (higher is better), * best`,
        "   suffix  runs  status  b.chars",
        "*  zzz      1/1  ok            8",
        "   yy       1/1  ok            7",
        "   x        1/1  ok            6",
        "",
      ].join("\n"),
    );
    // `runs --sweep` lists its runs; `show` and `compare` take a sweep too.
    const listed = await rig.cli("runs", "--sweep", "latest");
    expect(listed.out.split("\n").filter((line) => line.includes("-toy[")).map((line) => line.split(" ")[0]?.replace(/^\d{8}T\d{6}Z-/, ""))).toEqual(["toy[suffix=zzz]", "toy[suffix=yy]", "toy[suffix=x]"]);
    expect((await rig.cli("show", sweep.id, "--metric", "b.chars")).out).toBe(shown.out);
    expect((await rig.cli("compare", sweep.id, "--metric", "b.chars")).out).toBe(shown.out);
  });

  it("lists every combination and what it would reuse in status and --dry-run, running nothing", async () => {
    await rig.write("toy.yaml", TOY);
    const status = await rig.cli("status", "toy.yaml", "--sweep", "stages.b.params.suffix=x,yy");
    expect(status.out).toBe(
      [
        "sweep of 2 runs over suffix",
        "",
        "[suffix=x]",
        "a      will run  no previous run of this stage",
        "b      will run  upstream a will run",
        "",
        "[suffix=yy]",
        "a      reuse     computed by [suffix=x] earlier in this sweep",
        "b      will run  upstream a will run",
        "",
        "3 stage runs to compute, 1 reused",
        "",
      ].join("\n"),
    );
    const dry = await rig.cli("run", "toy.yaml", "--sweep", "stages.b.params.suffix=x,yy", "--dry-run");
    expect(dry.out).toBe(status.out);
    expect(await rig.takeCalls()).toEqual([]);
  });

  it("runs the other combinations when one fails, shows it as failed, and exits 1", async () => {
    await rig.write("toy.yaml", `${TOY}sweep:\n  stages.b.params.fail: [false, true]\n  stages.b.params.suffix: [x, yy]\n`);
    const result = await rig.cli("run", "toy.yaml");
    expect(result.code).toBe(1);
    expect(result.err).toContain("[sweep] [fail=true,suffix=x] failed at b: told to fail");
    expect(result.err).toContain("2 succeeded, 2 failed of 4");
    expect(await rig.takeCalls()).toEqual(["a", "b", "b", "b", "b"]);
    const sweep = await sweepRecord();
    expect(sweep.status).toBe("failed");
    const shown = await rig.cli("sweep", "show", "--format", "csv", "--metric", "b.chars");
    expect(shown.out).toBe(
      [
        "stages.b.params.fail,stages.b.params.suffix,runs,succeeded,failed,unfinished,b.chars.mean,b.chars.std,b.chars.n,best",
        "false,yy,1,1,0,0,7,,1,true",
        "false,x,1,1,0,0,6,,1,false",
        "true,x,1,0,1,0,,,0,false",
        "true,yy,1,0,1,0,,,0,false",
        "",
      ].join("\n"),
    );
  });

  it("refuses bad sweeps before anything runs, each problem at its spot", async () => {
    await rig.write("toy.yaml", `${TOY}sweep:\n  stages.b.params.sufix: [x, y]\n  stages.b.params.fail: [true, 3]\n  stages.a.params.value: []\n  stages.c.params.x: [1]\n`);
    const result = await rig.cli("run", "toy.yaml");
    expect(result.code).toBe(2);
    expect(result.err).toBe(
      [
        "toy.yaml:9:19 - error: stages.b.params.sufix: unknown key `sufix`",
        "",
        "  9 |   stages.b.params.sufix: [x, y]",
        "    |                   ~~~~~",
        "  hint: did you mean `suffix`?",
        "",
        "toy.yaml:10:32 - error: stages.b.params.fail: expected boolean, found number 3",
        "",
        "  10 |   stages.b.params.fail: [true, 3]",
        "     |                                ~",
        "",
        "toy.yaml:11:26 - error: sweep.stages.a.params.value: expected at least one value, found an empty list",
        "",
        "  11 |   stages.a.params.value: []",
        "     |                          ~~",
        "",
        "toy.yaml:12:10 - error: stages.c: no stage `c`",
        "",
        "  12 |   stages.c.params.x: [1]",
        "     |          ~",
        "  hint: the stages are: a, b",
        "",
        "4 problems in the experiment; nothing was run.",
        "",
      ].join("\n"),
    );
    const cli = await rig.cli("run", "toy.yaml", "--sweep", "stages.b.params.suffix=x,", "--cv", "stages.a.params=1");
    expect(cli.code).toBe(2);
    expect(await rig.takeCalls()).toEqual([]);
  });

  it("asks for --yes beyond 64 runs", async () => {
    await rig.write("toy.yaml", TOY);
    const values = Array.from({ length: 65 }, (_, i) => `v${i}`).join(",");
    const result = await rig.cli("run", "toy.yaml", "--sweep", `stages.b.params.suffix=${values}`);
    expect(result.code).toBe(2);
    expect(result.err.split("\n")[0]).toBe("mu-pipe: this sweep makes 65 runs, more than 64; add --yes to run them all (or --dry-run to list them)");
    expect(await rig.takeCalls()).toEqual([]);
  });
});
