import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Ajv } from "ajv";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { loadStage } from "../../stages/data/load.js";
import { decodeScleraMask } from "../../stages/data/masks.js";
import { normaliseMasdName } from "../../stages/data/sources/masd.js";
import { parseMobiusName } from "../../stages/data/sources/mobius.js";
import { parseSbvpiName } from "../../stages/data/sources/sbvpi.js";
import {
  H,
  W,
  hashTree,
  isSclera,
  runLoad,
  tempDir,
  writeBinaryMask,
  writeClassMask,
  writeImage,
  writeRgbMask,
  writeText,
} from "./load-fixtures.js";
import { captureIO } from "../capture-io.js";

describe("load stage declaration", () => {
  it("declares name, version, seed use and an output folder", () => {
    expect(loadStage.name).toBe("load");
    expect(loadStage.version).toBe(1);
    expect(loadStage.usesSeed).toBe(true);
    expect(Object.keys(loadStage.inputs)).toEqual([]);
    expect(Object.keys(loadStage.outputs)).toEqual(["dataset"]);
  });

  it("has a schema ajv compiles strictly, that fills defaults and rejects unknown keys", () => {
    const ajv = new Ajv({ useDefaults: true, strict: true, strictTypes: false, allErrors: true });
    const validate = ajv.compile(loadStage.paramsSchema);
    const params: Record<string, unknown> = { source: { kind: "folders", images: "i", masks: "m", mask: { kind: "class-index", sclera: 1 } } };
    expect(validate(params)).toBe(true);
    expect(params).toEqual({
      source: { kind: "folders", images: "i", masks: "m", mask: { kind: "class-index", sclera: 1 } },
      split: { train: 0.8, val: 0.1, test: 0.1 },
      on_invalid: "error",
    });
    expect(validate({ source: { kind: "folders", images: "i", masks: "m" }, bogus: 1 })).toBe(false);
    expect(validate({ source: { kind: "mobius", root: "r", images: "x" } })).toBe(false);
    expect(validate({ source: { kind: "synthetic", count: 0 } })).toBe(false);
    expect(validate({ source: { kind: "masd", root: "r" }, split: { by: "eye" } })).toBe(false);
    // A wrong kind is one error about `kind`, not one per layout.
    expect(validate({ source: { kind: "mobious", root: "r" } })).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual(["/source/kind must be equal to one of the allowed values"]);
  });

  it("describes every key of its schema", () => {
    const missing: string[] = [];
    const walk = (schema: unknown, where: string): void => {
      if (typeof schema !== "object" || schema === null) return;
      const s = schema as Record<string, unknown>;
      for (const [key, sub] of Object.entries((s["properties"] as Record<string, unknown>) ?? {})) {
        if (typeof (sub as Record<string, unknown>)["description"] !== "string") missing.push(`${where}.${key}`);
        walk(sub, `${where}.${key}`);
      }
      for (const branch of (s["allOf"] as Record<string, unknown>[]) ?? []) walk(branch["then"], where);
    };
    walk(loadStage.paramsSchema, "params");
    expect(missing).toEqual([]);
  });

  it("names the source folders as external inputs (absolute)", () => {
    const ext = (params: unknown, baseDir: string): string[] =>
      (loadStage.externalInputs as (p: unknown, b: string, c: ReadonlySet<string>) => { path: string }[])(params, baseDir, new Set()).map((entry) => entry.path);
    expect(ext({ source: { kind: "folders", images: "data/img", masks: "data/gt" }, split: { train: 1, val: 0, test: 0 } }, "/exp")).toEqual([
      "/exp/data/img",
      "/exp/data/gt",
    ]);
    expect(ext({ source: { kind: "mobius", root: "/d/MOBIUS" }, split: { train: 1, val: 0, test: 0, file: "s.csv" } }, "/exp")).toEqual([
      "/d/MOBIUS/Images",
      "/d/MOBIUS/Masks",
      "/exp/s.csv",
    ]);
    expect(ext({ source: { kind: "synthetic", count: 3 }, split: { train: 1, val: 0, test: 0 } }, "/exp")).toEqual([]);
  });

  it("says which folder of which layout is missing when a source folder does not exist", async () => {
    const dir = await tempDir("load-missing");
    await writeFile(
      path.join(dir, "exp.yaml"),
      ["experiment: e", "stages:", "  load:", "    uses: load", "    params:", "      source: { kind: masd, root: data }", "      split: { train: 1, val: 0, test: 0 }", ""].join("\n"),
    );
    const io = captureIO(dir);
    expect(await main(["run", "exp.yaml"], io)).toBe(1);
    expect(io.stdout() + io.stderr()).toContain(`${path.join(dir, "data", "MASD")} (the photos: source.root + /MASD, for the masd layout): no such file or folder`);
  });
});

describe("folders layout", () => {
  let base: string;
  beforeAll(async () => {
    base = await tempDir("folders");
    await writeImage(path.join(base, "data/images/a.jpg"), { salt: 1 });
    await writeImage(path.join(base, "data/images/b.png"), { salt: 2 });
    await writeImage(path.join(base, "data/images/sub/c.JPEG"), { salt: 3 });
    await writeText(path.join(base, "data/images/README.md"), "# notes");
    await writeText(path.join(base, "data/images/.DS_Store"), "junk");
    await writeClassMask(path.join(base, "data/masks/a.png"));
    await writeClassMask(path.join(base, "data/masks/b.png"));
    await writeClassMask(path.join(base, "data/masks/sub/c.png"));
  });

  it("pairs by relative folder and base name, ignoring non-images, with the class-index encoding", async () => {
    const { manifest, report, outcome } = await runLoad(
      { source: { kind: "folders", images: "data/images", masks: "data/masks", mask: { kind: "class-index", sclera: 1 } } },
      { baseDir: base },
    );
    expect(manifest.version).toBe(1);
    expect(manifest.items.map((i) => i.id)).toEqual(["a", "b", "sub_c"]);
    const a = manifest.items[0];
    // The user's files, relative to the experiment file's folder (`base`), so the artifact survives a move.
    expect(a?.image).toMatchObject({ path: "data/images/a.jpg", base: "experiment", width: W, height: H });
    expect(a?.image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a?.mask).toMatchObject({ path: "data/masks/a.png", base: "experiment" });
    expect(a?.maskEncoding).toEqual({ kind: "class-index", sclera: 1 });
    expect(a?.subject).toBeNull();
    expect(a?.attributes).toEqual({ source: "folders" });
    expect(report.ignored).toEqual([path.join(base, "data/images/.DS_Store"), path.join(base, "data/images/README.md")]);
    expect(report.splitBy).toBe("image");
    expect(outcome?.metrics).toMatchObject({ items: 3, skipped: 0, ignored: 2, subjects: 0 });
  });

  it("derives mask names from a {name} pattern or a regex", async () => {
    const dir = await tempDir("folders-pattern");
    await writeImage(path.join(dir, "img/x1.jpg"));
    await writeImage(path.join(dir, "img/x2.jpg"));
    await writeBinaryMask(path.join(dir, "gt/x1_mask.png"));
    await writeBinaryMask(path.join(dir, "gt/x2_mask.png"));
    const pattern = await runLoad({ source: { kind: "folders", images: "img", masks: "gt", mask_name: "{name}_mask.png" } }, { baseDir: dir });
    expect(pattern.manifest.items.map((i) => [i.id, path.basename(i.mask.path)])).toEqual([
      ["x1", "x1_mask.png"],
      ["x2", "x2_mask.png"],
    ]);
    const regex = await runLoad({ source: { kind: "folders", images: "img", masks: "gt", mask_regex: "^(?<name>x\\d)_mask\\.png$" } }, { baseDir: dir });
    expect(regex.manifest.items.map((i) => path.basename(i.mask.path))).toEqual(["x1_mask.png", "x2_mask.png"]);
  });

  it("turns named groups of name_attributes into attributes, and rejects a pattern without usable groups", async () => {
    const dir = await tempDir("folders-attributes");
    for (const name of ["webcam_1", "webcam_2", "unityeyes_7", "other"]) {
      await writeImage(path.join(dir, `img/${name}.jpg`));
      await writeBinaryMask(path.join(dir, `gt/${name}.png`));
    }
    const tagged = await runLoad({ source: { kind: "folders", images: "img", masks: "gt", name_attributes: "^(?<kind>webcam|unityeyes)_(?<n>\\d+)$" } }, { baseDir: dir });
    expect(tagged.manifest.items.map((i) => [i.id, i.attributes])).toEqual([
      ["other", { source: "folders" }],
      ["unityeyes_7", { source: "folders", kind: "unityeyes", n: "7" }],
      ["webcam_1", { source: "folders", kind: "webcam", n: "1" }],
      ["webcam_2", { source: "folders", kind: "webcam", n: "2" }],
    ]);
    const folders = { kind: "folders", images: "img", masks: "gt" } as const;
    await expect(runLoad({ source: { ...folders, name_attributes: "^(webcam)_" } }, { baseDir: dir })).rejects.toThrow(/name_attributes "\^\(webcam\)_" has no named group/);
    await expect(runLoad({ source: { ...folders, name_attributes: "^(?<source>[a-z]+)_" } }, { baseDir: dir })).rejects.toThrow(/group name "source" is set by the loader itself/);
    await expect(runLoad({ source: { ...folders, name_attributes: "(?<kind>" } }, { baseDir: dir })).rejects.toThrow(/name_attributes is not a valid regular expression/);
  });

  it("reads images and masks from one shared folder with a mask pattern", async () => {
    const dir = await tempDir("folders-shared");
    await writeImage(path.join(dir, "all/e1.jpg"));
    await writeBinaryMask(path.join(dir, "all/e1_gt.png"));
    const { manifest } = await runLoad({ source: { kind: "folders", images: "all", masks: "all", mask_name: "{name}_gt.png" } }, { baseDir: dir });
    expect(manifest.items.map((i) => [i.id, path.basename(i.image.path), path.basename(i.mask.path)])).toEqual([["e1", "e1.jpg", "e1_gt.png"]]);
  });

  it("never modifies the source tree", async () => {
    const before = await hashTree(base);
    await runLoad({ source: { kind: "folders", images: "data/images", masks: "data/masks", mask: { kind: "class-index", sclera: 1 } } }, { baseDir: base });
    expect(await hashTree(base)).toEqual(before);
  });
});

describe("masd layout", () => {
  it("pairs names that differ in spaces, case and extension; subject = folder", async () => {
    const root = await tempDir("masd");
    await writeImage(path.join(root, "MASD/1/1  (3).jpg"));
    await writeImage(path.join(root, "MASD/1/Img 2.JPG"));
    await writeImage(path.join(root, "MASD/2/x.jpg"));
    await writeBinaryMask(path.join(root, "MASD_GT/1/1(3).png"));
    await writeBinaryMask(path.join(root, "MASD_GT/1/img2.png"));
    await writeBinaryMask(path.join(root, "MASD_GT/2/X.png"));
    const { manifest } = await runLoad({ source: { kind: "masd", root: "." }, split: { train: 0.5, val: 0.5, test: 0 } }, { baseDir: root });
    expect(manifest.items.map((i) => [i.id, i.subject, path.basename(i.image.path), path.basename(i.mask.path)])).toEqual([
      ["1_1_3_", "1", "1  (3).jpg", "1(3).png"],
      ["1_img2", "1", "Img 2.JPG", "img2.png"],
      ["2_x", "2", "x.jpg", "X.png"],
    ]);
    expect(manifest.items[0]?.maskEncoding).toEqual({ kind: "binary" });
    expect(manifest.items[0]?.attributes).toEqual({ source: "masd" });
    // By subject (the default with subjects): both items of subject 1 share a split.
    expect(manifest.items[0]?.split).toBe(manifest.items[1]?.split);
    expect(normaliseMasdName("1  (3).jpg")).toBe("1(3)");
  });
});

describe("sbvpi layout", () => {
  it("pairs <base>_sclera.png, ignores the other masks, reads eye and gaze", async () => {
    const root = await tempDir("sbvpi");
    await writeImage(path.join(root, "1/1L_l_1.jpg"));
    await writeBinaryMask(path.join(root, "1/1L_l_1_sclera.png"));
    await writeBinaryMask(path.join(root, "1/1L_l_1_iris.png"));
    await writeBinaryMask(path.join(root, "1/1L_l_1_periocular.png"));
    await writeImage(path.join(root, "1/1R_s_2.jpg"));
    await writeBinaryMask(path.join(root, "1/1R_s_2_sclera.png"));
    await writeImage(path.join(root, "12/12L_u_1.jpg"));
    // RGBA with a transparent background, as some SBVPI masks are.
    const rgba = Buffer.alloc(W * H * 4);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (isSclera(x, W)) rgba.set([255, 255, 255, 255], (y * W + x) * 4);
    await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toFile(path.join(root, "12/12L_u_1_sclera.png"));

    const { manifest, report } = await runLoad({ source: { kind: "sbvpi", root: "." }, split: { train: 0.5, val: 0.5, test: 0 } }, { baseDir: root });
    expect(manifest.items.map((i) => [i.id, i.subject, i.attributes])).toEqual([
      ["12L_u_1", "12", { source: "sbvpi", eye: "L", gaze: "u" }],
      ["1L_l_1", "1", { source: "sbvpi", eye: "L", gaze: "l" }],
      ["1R_s_2", "1", { source: "sbvpi", eye: "R", gaze: "s" }],
    ]);
    expect(report.ignored.map((f) => path.basename(f))).toEqual(["1L_l_1_iris.png", "1L_l_1_periocular.png"]);
    const decoded = await decodeScleraMask(path.join(root, manifest.items[0]?.mask.path ?? ""), manifest.items[0]?.maskEncoding ?? { kind: "binary" });
    expect(decoded.mask.reduce((a, b) => a + b, 0)).toBe(4 * H);
    expect(parseSbvpiName("3R_r_10")).toEqual({ subject: "3", eye: "R", gaze: "r", n: "10" });
    expect(parseSbvpiName("3R_x_10")).toBeNull();
  });
});

describe("mobius layout", () => {
  it("pairs Images/<ID> with Masks/<ID>, reads phone, light, eye, gaze from the name", async () => {
    const root = await tempDir("mobius");
    for (const [id, base] of [
      ["1", "1_1i_Ll_1"],
      ["1", "1_2n_Rr_2"],
      ["2", "2_3p_Ls_1"],
    ] as const) {
      await writeImage(path.join(root, `Images/${id}/${base}.jpg`));
      await writeRgbMask(path.join(root, `Masks/${id}/${base}.png`));
    }
    const { manifest } = await runLoad({ source: { kind: "mobius", root: "." }, split: { train: 0.5, val: 0.5, test: 0 } }, { baseDir: root });
    expect(manifest.items.map((i) => [i.id, i.subject, i.attributes])).toEqual([
      ["1_1i_Ll_1", "1", { source: "mobius", phone: "1", light: "i", eye: "L", gaze: "l" }],
      ["1_2n_Rr_2", "1", { source: "mobius", phone: "2", light: "n", eye: "R", gaze: "r" }],
      ["2_3p_Ls_1", "2", { source: "mobius", phone: "3", light: "p", eye: "L", gaze: "s" }],
    ]);
    expect(manifest.items[0]?.maskEncoding).toMatchObject({ kind: "rgb", sclera: [255, 0, 0] });
    const decoded = await decodeScleraMask(path.join(root, manifest.items[0]?.mask.path ?? ""), manifest.items[0]?.maskEncoding ?? { kind: "binary" });
    expect([...decoded.mask.subarray(0, W)]).toEqual(Array.from({ length: W }, (_, x) => (isSclera(x, W) ? 1 : 0)));
    expect(parseMobiusName("10_1i_Ll")).toBeNull();
  });
});
