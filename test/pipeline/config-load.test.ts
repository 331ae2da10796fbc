/**
 * The experiment loader: what a user sees for good and bad experiment files. The
 * printed diagnostics are a user-facing contract, so they are compared exactly.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { ExperimentConfig } from "../../pipeline/config/experiment.js";
import { formatDiagnostic } from "../../pipeline/config/format-diagnostic.js";
import { loadExperiment } from "../../pipeline/config/load-experiment.js";
import { MuPipeError, type Diagnostic } from "../../pipeline/failure.js";
import { toyRegistry } from "./toy-config-registry.js";

const registry = toyRegistry;

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temporary folder holding `files` (path -> text). */
async function fixture(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-config-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

function load(dir: string, file: string, overrides: readonly string[] = []): Promise<ExperimentConfig> {
  return loadExperiment(file, { overrides, registry, cwd: dir });
}

/** The diagnostics a load fails with (fails the test when it succeeds or fails otherwise). */
async function diagnosticsOf(loading: Promise<unknown>): Promise<readonly Diagnostic[]> {
  try {
    await loading;
  } catch (error) {
    if (error instanceof MuPipeError && error.failure.reason === "config-invalid") return error.failure.diagnostics;
    throw error;
  }
  throw new Error("expected the experiment to be rejected");
}

/** What the CLI would print for a rejected load, diagnostics separated by blank lines. */
async function printed(loading: Promise<unknown>): Promise<string> {
  const diagnostics = await diagnosticsOf(loading);
  return diagnostics.map((d) => formatDiagnostic(d)).join("\n\n");
}

/** Joins lines, so expected output reads like the terminal. */
function lines(...text: string[]): string {
  return text.join("\n");
}

const QUICKSTART = lines(
  "# yaml-language-server: $schema=../schema/experiment.schema.json",
  "experiment: quickstart",
  "description: a toy pipeline",
  "settings:",
  "  seed: 7",
  "stages:",
  "  make:",
  "    uses: produce",
  "    params:",
  "      label: eyes",
  "  eat:",
  "    uses: consume",
  "    description: reads what make made",
  "    inputs:",
  "      data: make.data",
  "      extra: make",
  "",
);

describe("a valid experiment", () => {
  test("is returned with defaults filled in and paths made absolute", async () => {
    const dir = await fixture({ "configs/quickstart.yaml": QUICKSTART });
    const config = await load(dir, "configs/quickstart.yaml");

    expect(config.name).toBe("quickstart");
    expect(config.file).toBe(path.join(dir, "configs/quickstart.yaml"));
    expect(config.baseDir).toBe(path.join(dir, "configs"));
    expect(config.settings).toEqual({
      seed: 7,
      runtime: { backend: "auto" },
      runsDir: path.join(dir, "runs"),
      storeDir: path.join(dir, "runs/.store"),
      jobs: 1,
      executor: "local",
      slurm: { defaults: {}, stages: {}, extra: [], pollSeconds: 5 },
    });
    expect(config.stages).toEqual([
      { id: "make", uses: "produce", description: null, inputs: {}, params: { label: "eyes", count: 3 } },
      {
        id: "eat",
        uses: "consume",
        description: "reads what make made",
        inputs: { data: { stage: "make", output: "data" }, extra: { stage: "make", output: null } },
        params: { mode: "fast" },
      },
    ]);
  });

  test("keeps the stages in file order, not alphabetical", async () => {
    const dir = await fixture({
      "e.yaml": lines(
        "experiment: order",
        "stages:",
        "  zeta: {uses: produce, params: {label: z}}",
        "  alpha: {uses: produce, params: {label: a}}",
        "  mid: {uses: consume, inputs: {data: zeta}}",
      ),
    });
    const config = await load(dir, "e.yaml");
    expect(config.stages.map((s) => s.id)).toEqual(["zeta", "alpha", "mid"]);
    expect(Object.keys(config.resolved["stages"] as object)).toEqual(["zeta", "alpha", "mid"]);
  });

  test("resolves runs_dir and store against the current directory", async () => {
    const dir = await fixture({
      "configs/e.yaml": lines(
        "experiment: e",
        "settings: {runs_dir: out/runs, store: cache, runtime: {backend: wasm, threads: 2}}",
        "stages: {}",
      ),
    });
    const config = await load(dir, "configs/e.yaml");
    expect(config.settings).toEqual({
      seed: 42,
      runtime: { backend: "wasm", threads: 2 },
      runsDir: path.join(dir, "out/runs"),
      storeDir: path.join(dir, "cache"),
      jobs: 1,
      executor: "local",
      slurm: { defaults: {}, stages: {}, extra: [], pollSeconds: 5 },
    });
  });

  test("locate points at where a key was written, or its nearest ancestor", async () => {
    const dir = await fixture({ "configs/quickstart.yaml": QUICKSTART });
    const config = await load(dir, "configs/quickstart.yaml");

    const ref = config.locate(["stages", "eat", "inputs", "data"]);
    expect(ref).toMatchObject({ file: "configs/quickstart.yaml", start: { line: 15, column: 13 }, end: { line: 15, column: 22 } });
    const missing = config.locate(["stages", "make", "inputs", "data"]);
    expect(missing).toMatchObject({ start: { line: 7, column: 3 }, end: { line: 7, column: 7 } });
  });
});

describe("problems in one file", () => {
  test("an unknown key gets a did-you-mean", async () => {
    const dir = await fixture({
      "configs/e.yaml": lines("experiment: e", "stages:", "  make:", "    uses: produce", "    parms:", "      label: x", ""),
    });
    expect(await printed(load(dir, "configs/e.yaml"))).toBe(
      lines(
        "configs/e.yaml:5:5 - error: stages.make.parms: unknown key `parms`",
        "",
        "  5 |     parms:",
        "    |     ~~~~~",
        "  hint: did you mean `params`?",
      ),
    );
  });

  test("Slurm resources for a stage that is neither a stage id nor a type, and a malformed --mem", async () => {
    const dir = await fixture({
      "configs/e.yaml": lines("experiment: e", "settings:", "  slurm:", "    stages:", "      prodce: { mem: 8G }", "stages:", "  make:", "    uses: produce", "    params: { label: x }", ""),
    });
    expect(await printed(load(dir, "configs/e.yaml"))).toBe(
      lines(
        "configs/e.yaml:5:15 - error: settings.slurm.stages.prodce: `prodce` is neither a stage id nor a stage type of this experiment (make, produce)",
        "",
        "  5 |       prodce: { mem: 8G }",
        "    |               ~~~~~~~~~~~",
        "  hint: did you mean `produce`?",
      ),
    );
    const bad = await fixture({ "configs/e.yaml": lines("experiment: e", "settings:", "  slurm: { defaults: { mem: 8 GB } }", "stages:", "  make:", "    uses: produce", "    params: { label: x }", "") });
    expect(await printed(load(bad, "configs/e.yaml"))).toContain('settings.slurm.defaults.mem: must match the pattern ^[0-9]+[KMGT]?$, found "8 GB"');
  });

  test("a value of the wrong type is underlined with its line and column", async () => {
    const text = [
      "experiment: e",
      "settings:",
      "  seed: 1",
      "stages:",
      "  make:",
      "    uses: produce",
      "    params:",
      "      label: x",
      "  make2:",
      "    uses: produce",
      "    params:",
      "      count: fast",
      "      label: y",
    ];
    const dir = await fixture({ "configs/quickstart.yaml": lines(...text) });
    expect(await printed(load(dir, "configs/quickstart.yaml"))).toBe(
      lines(
        'configs/quickstart.yaml:12:14 - error: stages.make2.params.count: expected integer, found string "fast"',
        "",
        "  12 |       count: fast",
        "     |              ~~~~",
      ),
    );
  });

  test("a missing required key points at the map that lacks it", async () => {
    const dir = await fixture({ "e.yaml": lines("experiment: e", "stages:", "  make:", "    params: {label: x}", "") });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        "e.yaml:3:3 - error: stages.make: missing required key `uses`",
        "",
        "  3 |   make:",
        "    |   ~~~~",
        "  hint: known stage types: produce, consume",
      ),
    );
  });

  test("an unknown stage type gets a did-you-mean", async () => {
    const dir = await fixture({ "e.yaml": lines("experiment: e", "stages:", "  make:", "    uses: prodce", "") });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        "e.yaml:4:11 - error: stages.make.uses: unknown stage type `prodce`",
        "",
        "  4 |     uses: prodce",
        "    |           ~~~~~~",
        "  hint: did you mean `produce`?",
      ),
    );
  });

  test("an input the stage type does not declare, and a required input left out", async () => {
    const dir = await fixture({
      "e.yaml": lines(
        "experiment: e",
        "stages:",
        "  make: {uses: produce, params: {label: x}}",
        "  eat:",
        "    uses: consume",
        "    inputs:",
        "      extra: make",
        "      stuff: make",
        "  more:",
        "    uses: produce",
        "    params: {label: y}",
        "    inputs: {data: make}",
        "",
      ),
    });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        "e.yaml:6:5 - error: stages.eat.inputs: missing required input `data`",
        "",
        "  6 |     inputs:",
        "    |     ~~~~~~",
        "  hint: `data`: items to read",
        "",
        "e.yaml:8:7 - error: stages.eat.inputs.stuff: unknown input `stuff` for stage type `consume`",
        "",
        "  8 |       stuff: make",
        "    |       ~~~~~",
        "  hint: `consume` takes inputs: data, extra",
        "",
        "e.yaml:12:14 - error: stages.more.inputs.data: unknown input `data` for stage type `produce`",
        "",
        "  12 |     inputs: {data: make}",
        "     |              ~~~~",
        "  hint: `produce` takes no inputs",
      ),
    );
  });

  test("a misspelt required input is reported once, as unknown", async () => {
    const dir = await fixture({
      "e.yaml": lines("experiment: e", "stages:", "  make: {uses: produce, params: {label: x}}", "  eat: {uses: consume, inputs: {dta: make}}"),
    });
    const diagnostics = await diagnosticsOf(load(dir, "e.yaml"));
    expect(diagnostics.map((d) => [d.keyPath, d.message, d.hints])).toEqual([
      ["stages.eat.inputs.dta", "unknown input `dta` for stage type `consume`", ["did you mean `data`?"]],
    ]);
  });

  test("an input reference with bad syntax", async () => {
    const dir = await fixture({
      "e.yaml": lines("experiment: e", "stages:", "  make: {uses: produce, params: {label: x}}", "  eat:", "    uses: consume", "    inputs: {data: make..data}"),
    });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        'e.yaml:6:20 - error: stages.eat.inputs.data: expected a reference `stage` or `stage.output`, found "make..data"',
        "",
        "  6 |     inputs: {data: make..data}",
        "    |                    ~~~~~~~~~~",
      ),
    );
  });

  test("range and enum problems are phrased in plain words", async () => {
    const dir = await fixture({
      "e.yaml": lines("experiment: e", "settings:", "  runtime: {backend: gpu, threads: 0}", "stages: {}"),
    });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        'e.yaml:3:22 - error: settings.runtime.backend: expected one of auto, tensorflow-gpu, tensorflow, wasm, cpu; found "gpu"',
        "",
        "  3 |   runtime: {backend: gpu, threads: 0}",
        "    |                      ~~~",
        "  hint: did you mean `tensorflow-gpu`?",
        "",
        "e.yaml:3:36 - error: settings.runtime.threads: must be >= 1, found 0",
        "",
        "  3 |   runtime: {backend: gpu, threads: 0}",
        "    |                                    ~",
      ),
    );
  });

  test("a bad stage id and a bad experiment name", async () => {
    const dir = await fixture({ "e.yaml": lines("experiment: my experiment", "stages:", "  Make: {uses: produce, params: {label: x}}") });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        'e.yaml:1:13 - error: experiment: expected a name of letters, digits, `.`, `_` and `-` starting with a letter or digit, found "my experiment"',
        "",
        "  1 | experiment: my experiment",
        "    |             ~~~~~~~~~~~~~",
        "",
        "e.yaml:3:3 - error: stages.Make: invalid stage id `Make`",
        "",
        "  3 |   Make: {uses: produce, params: {label: x}}",
        "    |   ~~~~",
        "  hint: a stage id starts with a lowercase letter and has only a-z, 0-9, `_` and `-`",
      ),
    );
  });

  test("several problems are all reported, in file order", async () => {
    const dir = await fixture({
      "e.yaml": lines(
        "experiment: e",
        "setings: {}",
        "stages:",
        "  make:",
        "    uses: produce",
        "    params: {label: 3, count: 0}",
        "  eat:",
        "    uses: consum",
      ),
    });
    const diagnostics = await diagnosticsOf(load(dir, "e.yaml"));
    expect(diagnostics.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.keyPath}: ${d.message}`)).toEqual([
      "2:1 setings: unknown key `setings`",
      "6:21 stages.make.params.label: expected string, found number 3",
      "6:31 stages.make.params.count: must be >= 1, found 0",
      "8:11 stages.eat.uses: unknown stage type `consum`",
    ]);
  });

  test("a YAML syntax error is reported with its position", async () => {
    const dir = await fixture({ "e.yaml": lines("experiment: e", "stages:", "  make: {uses: produce", "  eat: x", "") });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        "e.yaml:4:3 - error: flow map in block collection must be sufficiently indented and end with a }",
        "",
        "  4 |   eat: x",
        "    |   ~",
      ),
    );
  });

  test("a duplicate key is reported where it is repeated", async () => {
    const dir = await fixture({
      "e.yaml": lines("experiment: e", "stages:", "  make:", "    uses: produce", "    uses: consume", "    params: {label: x}"),
    });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines(
        "e.yaml:5:5 - error: stages.make.uses: duplicate key `uses`",
        "",
        "  5 |     uses: consume",
        "    |     ~~~~",
        "  hint: the first `uses` is on line 4, and it is the one used",
      ),
    );
  });

  test("a missing file has no position", async () => {
    const dir = await fixture({});
    expect(await printed(load(dir, "configs/nope.yaml"))).toBe("configs/nope.yaml - error: cannot read the file: no such file");
  });

  test("an empty file", async () => {
    const dir = await fixture({ "e.yaml": "" });
    expect(await printed(load(dir, "e.yaml"))).toBe(
      lines("e.yaml:1:1 - error: expected a map with `experiment`, `stages` and so on; the document is empty", "", "  1 | ", "    | ~"),
    );
  });
});

describe("extends", () => {
  const BASE = lines(
    "experiment: base",
    "settings:",
    "  seed: 1",
    "  runtime: {backend: cpu, threads: 2}",
    "stages:",
    "  make:",
    "    uses: produce",
    "    params: {label: eyes, count: 5}",
    "  eat:",
    "    uses: consume",
    "    inputs: {data: make}",
    "",
  );

  test("a child changes one param of one stage and keeps the rest", async () => {
    const dir = await fixture({
      "configs/base.yaml": BASE,
      "configs/more/child.yaml": lines(
        "experiment: child",
        "extends: ../base.yaml",
        "settings:",
        "  runtime: {threads: 4}",
        "stages:",
        "  make:",
        "    params: {count: 9}",
        "  extra:",
        "    uses: produce",
        "    params: {label: more}",
      ),
    });
    const config = await load(dir, "configs/more/child.yaml");
    expect(config.name).toBe("child");
    expect(config.baseDir).toBe(path.join(dir, "configs/more"));
    expect(config.settings.seed).toBe(1);
    expect(config.settings.runtime).toEqual({ backend: "cpu", threads: 4 });
    expect(config.stages.map((s) => [s.id, s.uses, s.params])).toEqual([
      ["make", "produce", { label: "eyes", count: 9 }],
      ["eat", "consume", { mode: "fast" }],
      ["extra", "produce", { label: "more", count: 3 }],
    ]);
    expect(config.resolved).not.toHaveProperty("extends");
    expect(config.locate(["stages", "make", "params", "count"])).toMatchObject({ file: "configs/more/child.yaml", start: { line: 7 } });
    expect(config.locate(["stages", "make", "params", "label"])).toMatchObject({ file: "configs/base.yaml", start: { line: 8 } });
  });

  test("a problem in the parent is reported in the parent", async () => {
    const dir = await fixture({
      "base.yaml": BASE.replace("label: eyes", "label: [eyes]"),
      "child.yaml": lines("experiment: child", "extends: base.yaml", "stages:", "  make:", "    params: {count: 0}"),
    });
    expect(await printed(load(dir, "child.yaml"))).toBe(
      lines(
        "child.yaml:5:21 - error: stages.make.params.count: must be >= 1, found 0",
        "",
        "  5 |     params: {count: 0}",
        "    |                     ~",
        "",
        "base.yaml:8:21 - error: stages.make.params.label: expected string, found list",
        "",
        "  8 |     params: {label: [eyes], count: 5}",
        "    |                     ~~~~~~",
      ),
    );
  });

  test("the experiment name is not inherited", async () => {
    const dir = await fixture({ "base.yaml": BASE, "child.yaml": lines("extends: base.yaml", "settings: {seed: 3}") });
    const diagnostics = await diagnosticsOf(load(dir, "child.yaml"));
    expect(diagnostics.map((d) => [d.span?.file, d.message])).toEqual([["child.yaml", "missing required key `experiment`"]]);
  });

  test("a cycle names the chain of files", async () => {
    const dir = await fixture({
      "a.yaml": lines("experiment: a", "extends: sub/b.yaml"),
      "sub/b.yaml": lines("experiment: b", "extends: ../a.yaml"),
    });
    expect(await printed(load(dir, "a.yaml"))).toBe(
      lines(
        "sub/b.yaml:2:10 - error: extends: files extend each other in a cycle: a.yaml -> sub/b.yaml -> a.yaml",
        "",
        "  2 | extends: ../a.yaml",
        "    |          ~~~~~~~~~",
      ),
    );
  });

  test("a missing parent is reported at the extends line", async () => {
    const dir = await fixture({ "child.yaml": lines("experiment: c", "extends: base.yaml") });
    expect(await printed(load(dir, "child.yaml"))).toBe(
      lines("child.yaml:2:10 - error: extends: cannot read base.yaml: no such file", "", "  2 | extends: base.yaml", "    |          ~~~~~~~~~"),
    );
  });
});

describe("--set overrides", () => {
  const FILE = lines(
    "experiment: e",
    "stages:",
    "  finetune1: {uses: produce, params: {label: a}}",
    "  finetune2: {uses: produce, params: {label: b}}",
  );

  test("values are parsed as YAML and applied after extends", async () => {
    const dir = await fixture({ "base.yaml": FILE, "e.yaml": lines("experiment: e", "extends: base.yaml", "settings: {seed: 1}") });
    const config = await load(dir, "e.yaml", ["stages.finetune2.params.count=7", "settings.seed=9", "stages.finetune1.params.label='12'"]);
    expect(config.settings.seed).toBe(9);
    expect(config.stages.map((s) => s.params)).toEqual([
      { label: "12", count: 3 },
      { label: "b", count: 7 },
    ]);
    expect(config.resolved).toMatchObject({ settings: { seed: 9 } });
    // The overridden value points at the override; the keys around it stay in the files.
    expect(config.locate(["stages", "finetune2", "params", "count"])).toMatchObject({ file: "--set", start: { line: 1, column: 31 } });
    expect(config.locate(["stages", "finetune2", "inputs"])).toMatchObject({ file: "base.yaml", start: { line: 4, column: 3 } });
  });

  test("a whole new stage may be added", async () => {
    const dir = await fixture({ "e.yaml": FILE });
    const config = await load(dir, "e.yaml", ["stages.extra={uses: consume, inputs: {data: finetune1}}"]);
    expect(config.stages.map((s) => s.id)).toEqual(["finetune1", "finetune2", "extra"]);
  });

  test("a bad value points at the override", async () => {
    const dir = await fixture({ "e.yaml": FILE });
    expect(await printed(load(dir, "e.yaml", ["stages.finetune2.params.count=fast"]))).toBe(
      lines(
        '--set:1:31 - error: stages.finetune2.params.count: expected integer, found string "fast"',
        "",
        "  1 | stages.finetune2.params.count=fast",
        "    |                               ~~~~",
      ),
    );
  });

  test("an unknown stage gets a did-you-mean", async () => {
    const dir = await fixture({ "e.yaml": FILE });
    expect(await printed(load(dir, "e.yaml", ["stages.finetune9.params.lr=1"]))).toBe(
      lines(
        "--set:1:8 - error: stages.finetune9: no stage `finetune9`",
        "",
        "  1 | stages.finetune9.params.lr=1",
        "    |        ~~~~~~~~~",
        "  hint: did you mean `finetune1`?",
      ),
    );
  });

  test("an unknown key in the path gets a did-you-mean", async () => {
    const dir = await fixture({ "e.yaml": FILE });
    expect(await printed(load(dir, "e.yaml", ["settings.sed=7"]))).toBe(
      lines("--set:1:10 - error: settings.sed: unknown key `sed`", "", "  1 | settings.sed=7", "    |          ~~~", "  hint: did you mean `seed`?"),
    );
  });

  test("a malformed override, and a list value where a number is expected", async () => {
    const dir = await fixture({ "e.yaml": FILE });
    expect(await printed(load(dir, "e.yaml", ["settings.seed", "settings.seed=[1, 2]"]))).toBe(
      lines(
        '--set:1:1 - error: expected `key.path=value`, found "settings.seed"',
        "",
        "  1 | settings.seed",
        "    | ~~~~~~~~~~~~~",
        "  hint: for example: --set stages.train.params.lr=3e-4",
        "",
        "--set:1:15 - error: settings.seed: expected integer, found list",
        "",
        "  1 | settings.seed=[1, 2]",
        "    |               ~~~~~~",
      ),
    );
  });

  test("problems in the file and in overrides are reported together", async () => {
    const dir = await fixture({ "e.yaml": FILE.replace("label: b", "label: 2") });
    const diagnostics = await diagnosticsOf(load(dir, "e.yaml", ["settings.seed=x"]));
    expect(diagnostics.map((d) => `${d.span?.file} ${d.keyPath}`)).toEqual(["e.yaml stages.finetune2.params.label", "--set settings.seed"]);
  });
});
