import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { LoadParams } from "../../stages/data/load-params.js";
import { hashTree, runLoad, tempDir, writeBinaryMask, writeImage, writeRgbMask, writeText } from "./load-fixtures.js";

/**
 * One folders tree with a good pair and one of each fault:
 *   good        fine
 *   truncated   image cut in half
 *   garbage     image file holding text
 *   nomask      image without mask
 *   orphan      mask without image
 *   small       mask 6x4 for a 12x8 image
 *   empty       mask without a sclera pixel
 *   notes.txt   not an image: ignored, counted
 */
let base: string;
const img = (name: string): string => path.join(base, "img", name);
const gt = (name: string): string => path.join(base, "gt", name);
const source: LoadParams["source"] = { kind: "folders", images: "img", masks: "gt" };

beforeAll(async () => {
  base = await tempDir("invalid");
  await writeImage(img("good.jpg"));
  await writeBinaryMask(gt("good.png"));
  const big = await readFile(await writeImage(img("truncated.jpg"), { width: 96, height: 64, salt: 5 }));
  await writeFile(img("truncated.jpg"), big.subarray(0, Math.floor(big.length / 2)));
  await writeBinaryMask(gt("truncated.png"), { width: 96, height: 64 });
  await writeText(img("garbage.jpg"), "this is not a JPEG");
  await writeBinaryMask(gt("garbage.png"));
  await writeImage(img("nomask.jpg"));
  await writeBinaryMask(gt("orphan.png"));
  await writeImage(img("small.jpg"));
  await writeBinaryMask(gt("small.png"), { width: 6, height: 4 });
  await writeImage(img("empty.jpg"));
  await writeBinaryMask(gt("empty.png"), { empty: true });
  await writeText(img("notes.txt"), "hello");
});

describe("load with bad input", () => {
  it("fails naming the files at fault with a reason each, five at most", async () => {
    const error = await runLoad({ source }, { baseDir: base }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    const message = error?.message ?? "";
    expect(message.split("\n")[0]).toBe("load: 6 input file problems:");
    // Sorted by file: empty, garbage, nomask, orphan, small; truncated is "and 1 more".
    expect(message).toContain(`  ${gt("empty.png")}: mask is empty (no sclera pixel)`);
    expect(message).toMatch(new RegExp(`  ${escape(img("garbage.jpg"))}: not a readable image`));
    expect(message).toContain(`  ${img("nomask.jpg")}: no mask found (expected ${gt("nomask")}.<png|jpg|...>)`);
    expect(message).toContain(`  ${gt("orphan.png")}: mask has no matching image`);
    expect(message).toContain(`  ${gt("small.png")}: mask is 6x4 but its image small.jpg is 12x8`);
    expect(message).toContain("  and 1 more");
    expect(message).not.toContain("good");
  });

  it("with on_invalid: skip, leaves the bad items out and lists them in report.json and metrics", async () => {
    const before = await hashTree(base);
    const { manifest, report, outcome } = await runLoad({ source, on_invalid: "skip", split: { train: 1, val: 0, test: 0 } }, { baseDir: base });
    expect(manifest.items.map((i) => i.id)).toEqual(["good"]);
    const reasons = Object.fromEntries(report.skipped.map((s) => [path.basename(s.files[0] ?? ""), s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(["empty.png", "garbage.jpg", "nomask.jpg", "orphan.png", "small.png", "truncated.jpg"]);
    expect(reasons["truncated.jpg"]).toMatch(/^not a readable image: truncated or corrupt jpeg data/);
    expect(reasons["garbage.jpg"]).toBe("not a readable image: unrecognised format or damaged header");
    expect(manifest.skipped).toEqual(report.skipped);
    expect(report.ignored).toEqual([img("notes.txt")]);
    expect(outcome?.metrics).toMatchObject({ items: 1, skipped: 6, ignored: 1, train: 1, val: 0, test: 0 });
    // Source files are never modified.
    expect(await hashTree(base)).toEqual(before);
  });

  it("fails when skipping leaves nothing", async () => {
    const dir = await tempDir("all-bad");
    await writeImage(path.join(dir, "img/a.jpg"));
    await writeBinaryMask(path.join(dir, "gt/a.png"), { empty: true });
    await expect(runLoad({ source, on_invalid: "skip" }, { baseDir: dir })).rejects.toThrow(/no usable items in .*all 1 were invalid/);
  });

  it("reports an unknown colour in an RGB mask and a MOBIUS name that does not parse", async () => {
    const root = await tempDir("mobius-bad");
    await writeImage(path.join(root, "Images/1/1_1i_Ll_1.jpg"));
    await writeRgbMask(path.join(root, "Masks/1/1_1i_Ll_1.png"), { stray: true });
    await writeImage(path.join(root, "Images/1/holiday.jpg"));
    await expect(runLoad({ source: { kind: "mobius", root: "." } }, { baseDir: root })).rejects.toThrow(
      [
        "load: 2 input file problems:",
        `  ${path.join(root, "Images/1/holiday.jpg")}: name does not follow <ID>_<phone><light>_<L|R><gaze>_<n>: "holiday.jpg"`,
        `  ${path.join(root, "Masks/1/1_1i_Ll_1.png")}: mask has 1 pixel(s) of no declared class colour, first at (0, 0): (200, 200, 40)`,
      ].join("\n"),
    );
  });

  it("fails on an empty folder, saying no images were found", async () => {
    const dir = await tempDir("empty");
    await mkdir(path.join(dir, "img"));
    await mkdir(path.join(dir, "gt"));
    await writeText(path.join(dir, "img", "README.md"), "nothing here");
    await expect(runLoad({ source }, { baseDir: dir })).rejects.toThrow(
      `load: found no images in ${path.join(dir, "img")} and ${path.join(dir, "gt")} (1 non-image file(s) ignored, e.g. ${path.join(dir, "img", "README.md")})`,
    );
  });

  it("fails on a path that does not exist, naming it", async () => {
    const dir = await tempDir("missing");
    await expect(runLoad({ source }, { baseDir: dir })).rejects.toThrow(`images folder does not exist: ${path.join(dir, "img")}`);
    await expect(runLoad({ source: { kind: "masd", root: "nope" } }, { baseDir: dir })).rejects.toThrow(
      `MASD images folder (root/MASD) does not exist: ${path.join(dir, "nope", "MASD")}`,
    );
  });

  it("fails on a mask regex without a name group", async () => {
    await expect(runLoad({ source: { kind: "folders", images: "img", masks: "gt", mask_regex: "^x\\.png$" } }, { baseDir: base })).rejects.toThrow(
      /needs a group "name"/,
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
