import { captureIO } from "../capture-io.js";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import { TempDirs } from "../stages/resize-fixtures.js";
import { HEIGHT, SIX, WIDTH, columnRamp, leftColumns, writeGrey, writeSubmission } from "./submission-fixtures.js";
import { writePng } from "../stages/resize-fixtures.js";

const temp = new TempDirs();
afterEach(() => temp.cleanup());


/** A foreign submission (no predictions.json) at <tmp>/sub with its truth at <tmp>/gt. */
async function foreignSubmission(): Promise<{ root: string; sub: string; gt: string }> {
  const root = await temp.make("mu-pipe-score-");
  const sub = path.join(root, "sub");
  await writeSubmission(sub, SIX, { manifest: false });
  const gt = path.join(root, "gt");
  await mkdir(gt);
  for (const image of SIX) await writeFile(path.join(gt, `${image.base}.png`), await readFile(path.join(sub, "GroundTruth", `${image.base}.png`)));
  await rm(path.join(sub, "GroundTruth"), { recursive: true });
  return { root, sub, gt };
}

async function score(cwd: string, ...argv: string[]) {
  const io = captureIO(cwd);
  const code = await main(["score", ...argv], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("mu-pipe score", () => {
  it("prints mean ± std over folds and the pooled figures", async () => {
    const { root } = await foreignSubmission();
    const result = await score(root, "sub", "--ground-truth", "gt", "--folds", "3", "--seed", "7", "--size", "native");
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const lines = result.out.split("\n");
    expect(lines[0]).toBe(`SSBC 2020: 6 images against ${path.join(root, "gt")}, scored at the ground truth's size`);
    expect(lines[1]).toBe("mean ± std over 3 folds (seed 7):");
    expect(lines[3]).toMatch(/^ {13}binarised +probabilities \(best F1\)$/);
    expect(lines[4]).toMatch(/^ {2}F1 +0\.\d{4} ± 0\.\d{4} +0\.\d{4} ± 0\.\d{4}$/);
    expect(lines[8]).toMatch(/^ {2}PR-AUC +0\.\d{4} ± 0\.\d{4}$/);
    // TP 102 FP 12 FN 6 -> 204/222 = 0.9189; probabilities best at 190/255 with F1 8/9
    expect(result.out).toContain("pooled over all images: F1 0.9189 binarised, F1 0.8889 at threshold 0.745\n");
    expect(result.out).not.toContain("by ");
  });

  it("names the missing and the extra files and exits 1", async () => {
    const { root, sub, gt } = await foreignSubmission();
    await rm(path.join(sub, "Predictions", "eye3.png"));
    await writeGrey(path.join(sub, "Binarised", "zz.png"), leftColumns(1));
    const result = await score(root, "sub", "--ground-truth", "gt");
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err).toBe(
      `mu-pipe: ${sub}: does not match the ground truth in ${gt}:\n` +
        "  Predictions/ has no file for 1 ground-truth image: eye3.png\n" +
        "  Binarised/ has 1 file with no ground truth: zz.png\n",
    );
  });

  it("lists five names, then how many more", async () => {
    const { root, sub, gt } = await foreignSubmission();
    for (const extra of ["a", "b", "c", "d", "e", "f", "g"]) await writeGrey(path.join(sub, "Predictions", `${extra}.png`), columnRamp());
    const result = await score(root, "sub", "--ground-truth", "gt");
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `mu-pipe: ${sub}: does not match the ground truth in ${gt}:\n` +
        "  Predictions/ has 7 files with no ground truth: a.png, b.png, c.png, d.png, e.png and 2 more\n",
    );
  });

  it("names an unreadable image", async () => {
    const { root, sub } = await foreignSubmission();
    await writeFile(path.join(sub, "Predictions", "eye2.png"), "not a png at all");
    const result = await score(root, "sub", "--ground-truth", "gt");
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `mu-pipe: ${sub}: 1 image cannot be read:\n  Predictions/eye2.png: not a readable image: unrecognised format or damaged header\n`,
    );
  });

  it("refuses a folder without Predictions/ or Binarised/", async () => {
    const { root, gt } = await foreignSubmission();
    const result = await score(root, "gt", "--ground-truth", "gt");
    expect(result.code).toBe(1);
    expect(result.err).toBe(`mu-pipe: ${gt}: not an SSBC submission: it has neither a Predictions/ nor a Binarised/ folder\n`);
  });

  it("scores a prediction of another size after a warning", async () => {
    const { root, sub } = await foreignSubmission();
    await writeGrey(path.join(sub, "Binarised", "eye1.png"), leftColumns(4, 16, 12), 16, 12);
    const result = await score(root, "sub", "--ground-truth", "gt", "--folds", "2");
    expect(result.code).toBe(0);
    expect(result.err).toBe(
      "warning: Binarised/: 1 image differs in size from the ground truth, scored with both resized to 480x360: eye1.png (16x12, ground truth 8x6)\n",
    );
    // left 4 of 16 columns is the left 2 of 8: the figures are unchanged
    expect(result.out).toContain("pooled over all images: F1 0.9189 binarised");
  });

  it("uses the submission's GroundTruth/ and predictions.json (breakdowns) and writes the report files", async () => {
    const root = await temp.make("mu-pipe-score-");
    await writeSubmission(path.join(root, "sub"), SIX);
    const result = await score(root, "sub", "--folds", "3", "--format", "json", "--out", "scored");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as { version: number; images: number; breakdowns: { attribute: string }[] };
    expect(report).toMatchObject({ version: 1, images: 6, folds: 3, seed: 42, size: [480, 360] });
    expect(report.breakdowns.map((b) => b.attribute)).toEqual(["light", "phone"]);
    expect(JSON.parse(await readFile(path.join(root, "scored", "report.json"), "utf8"))).toEqual(report);
    expect((await readFile(path.join(root, "scored", "per-image.csv"), "utf8")).split("\n")).toHaveLength(8);
    expect((await readFile(path.join(root, "scored", "breakdown.csv"), "utf8")).split("\n")[2]).toMatch(/^light,day,3,/);

    // day: folds of one image, F1 1, 6/7, 6/7; pooled 96/108. night: 1, 1, 8/9; pooled 108/114.
    // Probabilities: each image alone separates perfectly; each group pooled is best at 190/255 (F1 8/9).
    const table = await score(root, "sub", "--folds", "3", "--size", "native");
    expect(table.out).toContain(
      [
        `by light (mean ± std over folds; "-" where a group has fewer images than folds):`,
        "         images  F1               F1 (probabilities)  pooled F1  pooled F1 (prob.)",
        "  day         3  0.9048 ± 0.0673  1.0000 ± 0.0000        0.8889             0.8889",
        "  night       3  0.9630 ± 0.0524  1.0000 ± 0.0000        0.9474             0.8889",
        "",
      ].join("\n"),
    );
    const fewer = await score(root, "sub", "--folds", "5", "--size", "native");
    expect(fewer.out).toContain("  day         3  -   -                      0.8889             0.8889\n");
  });

  it("scores only the sclera of class-index or colour ground truth, as the load stage's mask option says", async () => {
    const root = await temp.make("mu-pipe-score-");
    // eyes-dev style: columns 0-1 sclera (1), 2-3 iris (2), 4 pupil (3), 5-7 background (0);
    // the prediction marks exactly the sclera.
    const classes = new Uint8Array(WIDTH * HEIGHT).map((_, i) => [1, 1, 2, 2, 3, 0, 0, 0][i % WIDTH] as number);
    await writeGrey(path.join(root, "gt", "eye.png"), classes);
    await writeGrey(path.join(root, "sub", "Binarised", "eye.png"), leftColumns(2));
    const colours = Buffer.alloc(WIDTH * HEIGHT * 3);
    for (let i = 0; i < WIDTH * HEIGHT; i++) colours.set(i % WIDTH < 2 ? [255, 0, 0] : i % WIDTH < 5 ? [0, 255, 0] : [0, 0, 0], i * 3);
    await writePng(path.join(root, "rgb", "eye.png"), { width: WIDTH, height: HEIGHT, channels: 3, data: colours });
    const pooledF1 = async (...argv: string[]): Promise<number> => {
      const result = await score(root, "sub", "--folds", "1", "--size", "native", "--format", "json", ...argv);
      expect(result.err).toBe("");
      return (JSON.parse(result.out) as { overall: { pooled: { binarised: { f1: number } } } }).overall.pooled.binarised.f1;
    };
    // The default, binary: every nonzero class is sclera, so iris and pupil count (TP 12, FN 18).
    expect(await pooledF1("--ground-truth", "gt")).toBeCloseTo(24 / 42, 6);
    expect(await pooledF1("--ground-truth", "gt", "--mask", "class-index:1")).toBe(1);
    expect(await pooledF1("--ground-truth", "gt", "--mask", "{kind: class-index, sclera: 1}")).toBe(1);
    expect(await pooledF1("--ground-truth", "rgb", "--mask", "rgb:255,0,0")).toBe(1);
    expect(await pooledF1("--ground-truth", "rgb")).toBeCloseTo(24 / 42, 6);

    const bad = await score(root, "sub", "--ground-truth", "gt", "--mask", "class-index");
    expect(bad.code).toBe(2);
    expect(bad.err.split("\n")[0]).toBe('mu-pipe: --mask "class-index": class-index needs the sclera\'s class value, e.g. class-index:1');
    const range = await score(root, "sub", "--ground-truth", "gt", "--mask", "rgb:300,0,0");
    expect(range.code).toBe(2);
    expect(range.err.split("\n")[0]).toBe('mu-pipe: --mask "rgb:300,0,0": sclera.0 must be <= 255');
  });

  it.each([
    [["sub"], "mu-pipe: missing --ground-truth (the submission has no GroundTruth/ folder): its images had no ground truth; pass --ground-truth <folder of masks>"],
    [[], "mu-pipe: missing the submission folder"],
    [["sub", "--ground-truth", "gt", "--format", "xml"], "mu-pipe: --format must be table or json, not xml"],
    [["sub", "--ground-truth", "gt", "--folds", "0"], "mu-pipe: --folds must be an integer >= 1, not 0"],
    [["sub", "--ground-truth", "gt", "--size", "480"], "mu-pipe: --size must be <width>x<height> (e.g. 480x360, each 1..8192) or native, not 480"],
  ])("exits 2 on a usage error: %j", async (argv, first) => {
    const { root } = await foreignSubmission();
    const result = await score(root, ...argv);
    expect(result.code).toBe(2);
    expect(result.err.split("\n")[0]).toBe(first);
    expect(result.err).toContain("usage: mu-pipe score <submission folder> [options]");
  });

  it("exits 1 when a folder does not exist", async () => {
    const { root } = await foreignSubmission();
    const result = await score(root, "nowhere", "--ground-truth", "gt");
    expect(result.code).toBe(1);
    expect(result.err).toBe(`mu-pipe: ${path.join(root, "nowhere")}: no such folder\n`);
  });
});
