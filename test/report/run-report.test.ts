import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { PageChart, PageData } from "../../cli/report/chart-data.js";
import { writeRunReport } from "../../cli/report/write-report.js";
import { makeRegistry } from "../../pipeline/registry.js";
import type { StageType } from "../../pipeline/stage.js";
import { builtinRegistry, builtinStageTypes } from "../../stages/registry.js";
import { RUNTIME_CHOICES } from "../../stages/runtime/backend-names.js";
import { parseCsv } from "../../stages/report/csv-table.js";
import { captureIO } from "../capture-io.js";
import { HISTORY_A, HISTORY_B, IMAGE_F1, pageData, thresholdCurve, writeFakeRun } from "./fake-run.js";

const registry = builtinRegistry();
const A = "20261120T100000Z-eyes";
const B = "20261121T100000Z-eyes";
const FAILED = "20261122T100000Z-eyes";

let cwd: string;
let runsDir: string;

beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "mu-pipe-report-"));
  runsDir = path.join(cwd, "runs");
  await writeFakeRun(runsDir, { id: A, startedAt: "2026-11-20T10:00:00.000Z", lr: 0.0001, history: HISTORY_A, threshold: 0.4, imageF1: IMAGE_F1 });
  await writeFakeRun(runsDir, { id: B, startedAt: "2026-11-21T10:00:00.000Z", lr: 0.0003, history: HISTORY_B, threshold: 0.6, imageF1: IMAGE_F1 });
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const chart = (data: PageData, key: string): PageChart => {
  const found = data.charts[key];
  if (!found) throw new Error(`no chart ${key}; the page has ${Object.keys(data.charts).join(", ")}`);
  return found;
};

describe("a run's report.html", () => {
  let html: string;
  let data: PageData;
  beforeAll(async () => {
    const file = await writeRunReport(path.join(runsDir, B), registry);
    expect(file).toBe(path.join(runsDir, B, "report.html"));
    html = await readFile(file, "utf8");
    data = pageData<PageData>(html);
  });

  it("is one file that carries Chart.js and lets the browser load nothing", () => {
    expect(html).toContain("Chart.js v4");
    expect(html).toContain(`content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"`);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(?!data:)/);
  });

  it("has each finetune stage's loss, val loss, dice and learning rate per epoch, with the best epoch marked", () => {
    for (const stage of ["finetune1", "finetune2"]) {
      const loss = chart(data, `${stage}/loss`);
      expect(loss.series.map((s) => s.label)).toEqual(["loss (train)", "val loss"]);
      expect(loss.series[0]?.x).toEqual([1, 2, 3, 4, 5]);
      expect(loss.series[0]?.y).toEqual(HISTORY_B.map((h) => h.loss));
      expect(loss.series[1]?.y).toEqual(HISTORY_B.map((h) => h.val_loss));
      expect(loss.markers).toEqual([{ label: "best epoch 5 (val loss 0.2100)", x: 5, y: 0.21, colour: 7 }]);
      expect(chart(data, `${stage}/scores`).series[0]).toMatchObject({ label: "dice", y: HISTORY_B.map((h) => h.dice) });
      const lr = chart(data, `${stage}/lr`);
      expect(lr.series[0]?.y).toEqual(HISTORY_B.map((h) => h.lr));
      expect(lr.y.scale).toBe("log"); // cut tenfold during the run
    }
  });

  it("has the F1-vs-threshold and precision-recall curves with the chosen threshold marked", () => {
    const curve = thresholdCurve(0.6);
    const f1 = chart(data, "threshold/f1");
    expect(f1.series[0]).toMatchObject({ label: "F1", x: curve.map((p) => p.threshold), y: curve.map((p) => p.f1) });
    expect(f1.markers).toEqual([{ label: "chosen threshold 0.6 (F1 0.9)", x: 0.6, y: 0.9, colour: 7 }]);
    const pr = chart(data, "threshold/pr");
    expect(pr.series[0]?.x).toEqual([...curve.map((p) => p.recall), 0]);
    expect(pr.markers[0]).toMatchObject({ x: 0.46, y: 0.66 });
  });

  it("shows the best and worst images by F1 as embedded thumbnails with their figures", () => {
    const best = html.slice(html.indexOf("Best 4 by F1"), html.indexOf("Worst 4 by F1"));
    const worst = html.slice(html.indexOf("Worst 4 by F1"));
    const captions = (part: string): string[] => [...part.matchAll(/<figcaption>(img_\d)\.png/g)].map((m) => m[1] ?? "");
    expect(captions(best)).toEqual(["img_5", "img_1", "img_3", "img_7"]);
    expect(captions(worst)).toEqual(["img_4", "img_8", "img_2", "img_6"]);
    expect(best).toContain("img_5.png · F1 0.950 · precision 0.800 · recall 0.700");
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)).toHaveLength(8);
    expect(html).toMatch(/width="240" height="180"/);
    expect(chart(data, "evaluate/per-image-f1").series[0]?.y).toEqual([...IMAGE_F1].sort((a, b) => a - b));
  });

  it("lists every stage with its time and whether it ran or came from the cache", () => {
    expect(html).toMatch(/<td>load<\/td><td>load<\/td><td><span class="status status-reused">reused \(cache hit\)<\/span><\/td><td class="num">cached \(took 4\.5s\)<\/td>/);
    expect(html).toMatch(/<td>finetune2<\/td><td>finetune<\/td><td><span class="status status-ran">ran<\/span><\/td><td class="num">3\.0s<\/td>/);
    expect(html).toContain("cpu 4.22.0, 2 threads");
  });

  it("says what changed since the previous run of the experiment, and how the metrics moved", () => {
    expect(html).toContain(`Params of the config that differ from the previous run of this experiment, ${A}.`);
    expect(html).toMatch(/<code>stages\.finetune2\.params\.optimizer\.lr<\/code><\/td><td>0\.0001<\/td><td>0\.0003<\/td>/);
    expect(html).toMatch(/<td>best_val_loss<\/td><td class="num">0\.21<\/td><td class="num">0\.29<\/td><td class="num nowrap"><span class="delta better" title="better">-0\.08, -27\.6%<\/span>/);
    expect(data.runs[0]).toMatchObject({ id: B, experiment: "eyes", status: "succeeded" });
    expect(data.runs[0]?.metrics["evaluate.images"]).toBe(8);
  });

  it("holds the config as written", () => {
    expect(html).toContain("# Resolved from /exp/eyes.yaml");
  });
});

describe("the report of a failed run", () => {
  it("shows what exists: the error, the stages that finished, no sections of stages that never ran", async () => {
    await writeFakeRun(runsDir, { id: FAILED, startedAt: "2026-11-22T10:00:00.000Z", lr: 0.1, history: HISTORY_A, threshold: 0.5, imageF1: IMAGE_F1, failAtFinetune2: true });
    try {
      const html = await readFile(await writeRunReport(path.join(runsDir, FAILED), registry), "utf8");
      const data = pageData<PageData>(html);
      expect(html).toContain('<span class="status status-failed">failed</span>');
      expect(html).toContain('<span class="error">loss became NaN at epoch 2</span>');
      expect(html).toContain("not run: the run stopped at finetune2");
      expect(Object.keys(data.charts)).toEqual(["finetune1/loss", "finetune1/scores", "finetune1/lr"]);
      expect(html).not.toContain("Best ");
    } finally {
      await rm(path.join(runsDir, FAILED), { recursive: true, force: true });
    }
  });

  it("turns a stage type's report hook that throws into a note", async () => {
    const broken: StageType = { ...(builtinStageTypes.find((t) => t.name === "threshold") as StageType), report: () => Promise.reject(new Error("curve.csv is garbled")) };
    const html = await readFile(await writeRunReport(path.join(runsDir, A), makeRegistry(builtinStageTypes.map((t) => (t.name === "threshold" ? broken : t)), RUNTIME_CHOICES)), "utf8");
    expect(html).toContain("The threshold stage&#39;s report section could not be built: curve.csv is garbled");
    expect(html).toContain("finetune1/loss");
  });
});

describe("mu-pipe report", () => {
  it("rebuilds a run's report.html and prints its path", async () => {
    const io = captureIO(cwd);
    expect(await main(["report", A], io)).toBe(0);
    expect(io.stdout()).toBe(`runs/${A}/report.html\n`);
    expect(await readFile(path.join(runsDir, A, "report.html"), "utf8")).toContain(`<title>eyes · ${A}</title>`);
  });

  it("writes elsewhere with --out, and takes latest by default", async () => {
    const io = captureIO(cwd);
    expect(await main(["report", "--out", "out/page.html", "--runs-dir", "runs"], io)).toBe(0);
    expect(io.stdout()).toBe("out/page.html\n");
    expect(pageData<PageData>(await readFile(path.join(cwd, "out/page.html"), "utf8")).runs[0]?.id).toBe(B);
  });

  it("names a run that does not exist and exits 2", async () => {
    const io = captureIO(cwd);
    expect(await main(["report", "20261130"], io)).toBe(2);
    expect(io.stderr()).toBe(`mu-pipe: no run \`20261130\`\n  known: ${B}, ${A}\n`);
  });
});

describe("mu-pipe compare --format html", () => {
  it("writes a page with both runs, their differing params, metric deltas and overlaid curves", async () => {
    const io = captureIO(cwd);
    expect(await main(["compare", A, B, "--format", "html"], io)).toBe(0);
    const file = `runs/compare-${A}-vs-${B}.html`;
    expect(io.stdout()).toBe(`${file}\n`);
    const html = await readFile(path.join(cwd, file), "utf8");
    const data = pageData<PageData>(html);
    expect(data.kind).toBe("comparison");
    expect(data.runs.map((r) => r.id)).toEqual([A, B]);
    const loss = chart(data, "finetune2/loss");
    expect(loss.series.map((s) => [s.label, s.colour, s.dash])).toEqual([
      ["20261120T100000Z: loss (train)", 0, 0],
      ["20261120T100000Z: val loss", 0, 1],
      ["20261121T100000Z: loss (train)", 1, 0],
      ["20261121T100000Z: val loss", 1, 1],
    ]);
    expect(loss.series[0]?.y).toEqual(HISTORY_A.map((h) => h.loss));
    expect(loss.series[2]?.y).toEqual(HISTORY_B.map((h) => h.loss));
    expect(loss.x).toMatchObject({ min: 1, max: 5 });
    expect(chart(data, "threshold/f1").markers.map((m) => m.x)).toEqual([0.4, 0.6]);
    expect(html).toMatch(/<code>stages\.finetune2\.params\.optimizer\.lr<\/code><\/td><td>0\.0001<\/td><td>0\.0003<\/td>/);
    expect(html).toContain('<td class="num">0.29</td><td class="num">0.21 <span class="delta better" title="better">(-0.08, -27.6%)</span></td>');
  });

  it("writes to --out, which only html takes", async () => {
    const io = captureIO(cwd);
    expect(await main(["compare", A, B, "--format", "html", "--out", "cmp.html"], io)).toBe(0);
    expect(io.stdout()).toBe("cmp.html\n");
    const usage = captureIO(cwd);
    expect(await main(["compare", A, B, "--out", "cmp.html"], usage)).toBe(2);
    expect(usage.stderr()).toContain("mu-pipe: --out is for --format html");
  });
});

describe("parseCsv", () => {
  it("reads quoted cells with commas, quotes and newlines", () => {
    expect(parseCsv('name,note\n"a,b","say ""hi"""\nc,"two\nlines"\n')).toEqual([
      ["name", "note"],
      ["a,b", 'say "hi"'],
      ["c", "two\nlines"],
    ]);
  });
});
