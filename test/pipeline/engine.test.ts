import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunMetrics, RunRecord } from "../../pipeline/formats.js";
import { DIAMOND, EngineRig } from "./engine-rig.js";

let rig: EngineRig;
beforeEach(async () => {
  rig = await EngineRig.create();
});
afterEach(async () => {
  await rig.cleanup();
});

const statuses = (record: RunRecord): Record<string, string> => Object.fromEntries(record.stages.map((s) => [s.id, s.status]));

describe("mu-pipe run", () => {
  it("runs stages after their inputs and writes the run directory", async () => {
    await rig.write("exp.yaml", DIAMOND);
    const result = await rig.cli("run", "exp.yaml");
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(await rig.takeCalls()).toEqual(["a", "b", "c"]);

    const run = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(run.status).toBe("succeeded");
    expect(run.experiment).toBe("toy");
    expect(statuses(run)).toEqual({ c: "succeeded", a: "succeeded", b: "succeeded" });
    // What each stage says it ran on (the toy emit reports one; concat reports none).
    expect(Object.fromEntries(run.stages.map((s) => [s.id, s.environment]))).toEqual({ a: { engine: "toy", threads: 1 }, b: { engine: "toy", threads: 1 }, c: null });
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/artifacts/c/out"), "utf8")).toBe("hello world!");
    const metrics = await rig.readJson<RunMetrics>("runs/latest/metrics.json");
    expect(metrics.stages).toEqual({ a: { length: 5 }, b: { length: 6 }, c: { chars: 12 } });
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/logs/a.log"), "utf8")).toContain("emitting hello");
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/config.yaml"), "utf8")).toContain("suffix: \"!\"");
  });

  it("reuses every stage on an identical second run, with a new run directory", async () => {
    await rig.write("exp.yaml", DIAMOND);
    await rig.cli("run", "exp.yaml");
    const first = await fs.realpath(path.join(rig.dir, "runs/latest"));
    const computed = (await rig.readJson<RunRecord>("runs/latest/run.json")).stages.find((s) => s.id === "a")?.durationMs;
    await rig.takeCalls();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // run ids have one-second resolution
    expect((await rig.cli("run", "exp.yaml")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual([]);
    const run = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(await fs.realpath(path.join(rig.dir, "runs/latest"))).not.toBe(first);
    expect(statuses(run)).toEqual({ c: "reused", a: "reused", b: "reused" });
    expect(run.stages.find((s) => s.id === "a")?.environment).toEqual({ engine: "toy", threads: 1 });
    // The time the cache saved: what computing the stage took in the first run.
    expect(run.stages.find((s) => s.id === "a")).toMatchObject({ durationMs: 0, computedMs: computed });
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/artifacts/c/out"), "utf8")).toBe("hello world!");
    const metrics = await rig.readJson<RunMetrics>("runs/latest/metrics.json");
    expect(metrics.stages.c).toEqual({ chars: 12 });
  });

  it("re-runs exactly the stages downstream of a changed param, and says why", async () => {
    await rig.write("exp.yaml", DIAMOND);
    await rig.cli("run", "exp.yaml");
    await rig.takeCalls();
    const status = await rig.cli("status", "exp.yaml", "--set", "stages.b.params.value=there");
    expect(status.out).toBe(
      ["a      reuse     fingerprint matches a cached result", 'b      will run  params.value changed: " world" -> "there"', "c      will run  upstream b will run", ""].join("\n"),
    );
    expect((await rig.cli("run", "exp.yaml", "--set", "stages.b.params.value=there")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual(["b", "c"]);
    const run = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(run.stages.find((s) => s.id === "b")?.reason).toBe('params.value changed: " world" -> "there"');
    expect(run.stages.find((s) => s.id === "c")?.reason).toMatch(/^input b changed \(upstream artifact sha256:[0-9a-f]{8}…\/out -> sha256:[0-9a-f]{8}…\/out\)$/);
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/artifacts/c/out"), "utf8")).toBe("hellothere!");
  });

  it("--only runs one stage from cached inputs and refuses when they are missing", async () => {
    await rig.write("exp.yaml", DIAMOND);
    const refused = await rig.cli("run", "exp.yaml", "--only", "c");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("input `a` needs stage a, which is not selected and has no cached result");
    expect(await rig.takeCalls()).toEqual([]);

    await rig.cli("run", "exp.yaml");
    await rig.takeCalls();
    expect((await rig.cli("run", "exp.yaml", "--only", "c", "--force", "c")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual(["c"]);
  });

  it("status and run give the same reason for a stage that cannot run", async () => {
    await rig.write("exp.yaml", DIAMOND);
    const why = "input `a` needs stage a, which is not selected and has no cached result for its current inputs (run it too, or drop --only/--from)";
    const status = await rig.cli("status", "exp.yaml", "--only", "c");
    expect(status.out).toBe([`a      skip      not selected`, `b      skip      not selected`, `c      blocked   ${why}`, ""].join("\n"));
    const run = await rig.cli("run", "exp.yaml", "--only", "c");
    expect(run.err).toBe(`mu-pipe: stage c failed: ${why}\n`);
    expect((await rig.readJson<RunRecord>("runs/latest/run.json")).stages.find((s) => s.id === "c")).toMatchObject({ status: "failed", reason: why });
  });

  it("--until runs a stage and its upstream; --from runs a stage and its downstream", async () => {
    await rig.write("exp.yaml", DIAMOND);
    expect((await rig.cli("run", "exp.yaml", "--until", "a")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual(["a"]);
    const partial = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(statuses(partial)).toEqual({ c: "skipped", a: "succeeded", b: "skipped" });

    await rig.cli("run", "exp.yaml", "--until", "b");
    await rig.takeCalls();
    expect((await rig.cli("run", "exp.yaml", "--from", "b", "--force-all")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual(["b", "c"]);
  });

  it("--force re-runs one stage; identical output keeps downstream cached", async () => {
    await rig.write("exp.yaml", DIAMOND);
    await rig.cli("run", "exp.yaml");
    await rig.takeCalls();
    expect((await rig.cli("run", "exp.yaml", "--force", "a")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual(["a"]);
    const run = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(statuses(run)).toEqual({ c: "reused", a: "succeeded", b: "reused" });
    expect(run.stages.find((s) => s.id === "a")?.reason).toBe("forced");
  });

  it("a failing stage stops the run with exit code 1 and names its log", async () => {
    await rig.write("exp.yaml", DIAMOND.replace('suffix: "!"', 'suffix: "!", fail: true'));
    const result = await rig.cli("run", "exp.yaml");
    expect(result.code).toBe(1);
    // The toy throws "concat: told to fail": the stage's own name is not repeated after the stage id.
    expect(result.err).toMatch(/^mu-pipe: stage c failed: told to fail\n {2}log: .*logs\/c\.log\n$/);
    expect(result.out).toMatch(/\n\[c\] FAILED: told to fail\n\[c\] log: runs\/\d{8}T\d{6}Z-toy\/logs\/c\.log\n/);
    const run = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(run.status).toBe("failed");
    expect(run.stages.find((s) => s.id === "c")?.error).toBe("told to fail");
    expect(await fs.readFile(path.join(rig.dir, "runs/latest/logs/c.log"), "utf8")).toContain("told to fail");
    // Nothing of the failed attempt is left in the store.
    expect(await fs.readdir(path.join(rig.dir, "runs/.store/tmp")).catch(() => [])).toEqual([]);
  });

  it("re-runs a stage when a file it declares changes, and fails clearly when it is missing", async () => {
    await rig.write("data/a.txt", "one");
    await rig.write("watch.yaml", "experiment: watch\nstages:\n  w:\n    uses: emit\n    params: { watch: data }\n");
    expect((await rig.cli("run", "watch.yaml")).code).toBe(0);
    expect((await rig.cli("status", "watch.yaml")).out).toBe("w      reuse     fingerprint matches a cached result\n");
    await rig.write("data/a.txt", "two");
    expect((await rig.cli("status", "watch.yaml")).out).toBe("w      will run  external data changed\n");

    await fs.rm(path.join(rig.dir, "data"), { recursive: true });
    await rig.takeCalls();
    const result = await rig.cli("run", "watch.yaml");
    expect(result.code).toBe(1);
    expect(result.err).toBe(`mu-pipe: stage w failed: cannot read what the stage depends on: ${path.join(rig.dir, "data")}: no such file or folder\n`);
    expect(await rig.takeCalls()).toEqual([]);
    const run = await rig.readJson<RunRecord>("runs/latest/run.json");
    expect(run.status).toBe("failed");
  });

  it("--dry-run shows the plan and runs nothing", async () => {
    await rig.write("exp.yaml", DIAMOND);
    const result = await rig.cli("run", "exp.yaml", "--dry-run");
    expect(result.code).toBe(0);
    expect(result.out).toContain("a      will run  no previous run of this stage");
    expect(await rig.takeCalls()).toEqual([]);
    expect(await fs.readdir(path.join(rig.dir, "runs")).catch(() => [])).not.toContain("latest");
  });
});

describe("experiment errors", () => {
  it("reports a cycle with every stage involved, exit code 2, nothing run", async () => {
    await rig.write(
      "cycle.yaml",
      `experiment: cyclic
stages:
  a:
    uses: concat
    inputs: { a: c.out }
  b:
    uses: concat
    inputs: { a: a.out }
  c:
    uses: concat
    inputs: { a: b.out }
  d:
    uses: emit
`,
    );
    const result = await rig.cli("run", "cycle.yaml");
    expect(result.code).toBe(2);
    expect(result.err).toContain("stages depend on each other in a cycle: a -> b -> c -> a");
    expect(await rig.takeCalls()).toEqual([]);
  });

  it("reports a missing input stage with a did-you-mean, pointing at the spot", async () => {
    await rig.write(
      "missing.yaml",
      `experiment: missing
stages:
  alpha:
    uses: emit
  c:
    uses: concat
    inputs: { a: alpah.out }
`,
    );
    const result = await rig.cli("run", "missing.yaml");
    expect(result.code).toBe(2);
    expect(result.err).toContain("missing.yaml:7:18");
    expect(result.err).toContain("stages.c.inputs.a: no stage `alpah` in this experiment");
    expect(result.err).toContain("did you mean `alpha`?");
  });

  it("names an unknown stage in --only with exit code 2", async () => {
    await rig.write("exp.yaml", DIAMOND);
    const result = await rig.cli("run", "exp.yaml", "--only", "cc");
    expect(result.code).toBe(2);
    expect(result.err).toBe("mu-pipe: no stage `cc`\n  did you mean `c`?\n  known: a, b, c\n");
  });
});

describe("gc and verify", () => {
  it("gc removes only what no run folder links to; verify catches a changed artifact", async () => {
    await rig.write("exp.yaml", DIAMOND);
    await rig.cli("run", "exp.yaml", "--set", "stages.a.params.value=old");
    const oldRun = await fs.realpath(path.join(rig.dir, "runs/latest"));
    await rig.cli("run", "exp.yaml");
    await rig.takeCalls();
    expect((await rig.cli("gc", "--dry-run")).out).toBe("would remove 0 artifact(s), 0 record(s), 0 temp folder(s), 0 dead lock(s), 0 scratch folder(s); 0 B would be freed\n");

    const removal = await rig.cli("runs", "rm", oldRun);
    expect(removal.out).toBe(`removed 1 run(s):\n  ${path.basename(oldRun)}  succeeded\n\`mu-pipe gc\` frees the stored artifacts only they used\n`);
    expect((await rig.cli("gc")).out).toMatch(/^removed 2 artifact\(s\), 2 record\(s\), 0 temp folder\(s\), 0 dead lock\(s\), 0 scratch folder\(s\); [\d.]+ (B|KiB) freed\n$/);
    expect((await rig.cli("run", "exp.yaml")).code).toBe(0);
    expect(await rig.takeCalls()).toEqual([]);

    expect((await rig.cli("verify")).code).toBe(0);
    const out = path.join(await fs.realpath(path.join(rig.dir, "runs/latest/artifacts/c")), "out");
    await fs.chmod(out, 0o644);
    await fs.writeFile(out, "tampered");
    const verify = await rig.cli("verify");
    expect(verify.code).toBe(1);
    expect(verify.err).toMatch(/out: /);
  });
});

describe("dag", () => {
  it("prints the graph as mermaid", async () => {
    await rig.write("exp.yaml", DIAMOND);
    const result = await rig.cli("dag", "exp.yaml", "--format", "mermaid");
    expect(result.out).toBe(
      [
        "flowchart TD",
        '  a["a<br/><small>emit</small>"]',
        '  b["b<br/><small>emit</small>"]',
        '  c["c<br/><small>concat</small>"]',
        "  a -->|out| c",
        "  b -->|out| c",
        "",
      ].join("\n"),
    );
  });
});
