/**
 * `sbvpi`: `root/<subject>/<subject><L|R>_<gaze l|r|s|u>_<n>.jpg` with the sclera mask
 * `<base>_sclera.png` beside it. The other masks (`_iris`, `_pupil`, `_periocular`,
 * `_vessels`, ...) are not read.
 */
import path from "node:path";
import { baseName, isImageName } from "../image-names.js";
import { dirOf, fileOf, listFiles } from "./file-tree.js";
import { defineLayout, treeSchema, type TreeSource } from "./layout.js";
import { pairByKey, type KeyedFile, type SourceScan } from "./source-scan.js";

export type SbvpiSource = TreeSource<"sbvpi">;

export const sbvpiLayout = defineLayout<SbvpiSource>({
  kind: "sbvpi",
  schema: treeSchema("sbvpi", "SBVPI: root/<subject>/<subject><L|R>_<gaze>_<n>.jpg with <base>_sclera.png beside it"),
  // SBVPI masks are grey or RGBA with a transparent background: binary reads the
  // brightest channel dimmed by alpha, which covers both.
  defaultMask: { kind: "binary" },
  inputs: (source, baseDir) => [{ path: path.resolve(baseDir, source.root), about: "source.root, for the sbvpi layout" }],
  scan: (source, run) => scanSbvpi(source, run.baseDir),
});

const SBVPI_NAME = /^(?<subject>.+?)(?<eye>[LR])_(?<gaze>[lrsu])_(?<n>\d+)$/;
const MASK_SUFFIX = /^(?<base>.+)_(?<part>[A-Za-z]+)$/;

export interface SbvpiName {
  readonly subject: string;
  readonly eye: "L" | "R";
  readonly gaze: string;
  readonly n: string;
}

export function parseSbvpiName(base: string): SbvpiName | null {
  const groups = SBVPI_NAME.exec(base)?.groups;
  if (!groups) return null;
  return {
    subject: groups["subject"] ?? "",
    eye: groups["eye"] === "L" ? "L" : "R",
    gaze: groups["gaze"] ?? "",
    n: groups["n"] ?? "",
  };
}

export async function scanSbvpi(source: SbvpiSource, baseDir: string): Promise<SourceScan> {
  const root = path.resolve(baseDir, source.root);
  const ignored: string[] = [];
  const problems = [];
  const images: KeyedFile[] = [];
  const masks: KeyedFile[] = [];
  const names = new Map<string, SbvpiName>();
  for (const rel of await listFiles(root, "SBVPI root folder")) {
    const file = path.join(root, rel);
    if (!isImageName(rel)) {
      ignored.push(file);
      continue;
    }
    const base = baseName(rel);
    const suffix = MASK_SUFFIX.exec(base)?.groups;
    if (suffix && path.extname(rel).toLowerCase() === ".png" && parseSbvpiName(base) === null) {
      // `<base>_<part>.png`: a mask; only the sclera ones are read.
      if (suffix["part"] === "sclera") masks.push({ key: `${dirOf(rel)}/${suffix["base"]}`, file });
      else ignored.push(file);
      continue;
    }
    const parsed = parseSbvpiName(base);
    if (parsed === null) {
      problems.push({ files: [file], reason: `name does not follow <subject><L|R>_<gaze l|r|s|u>_<n>: "${fileOf(rel)}"` });
      continue;
    }
    const key = `${dirOf(rel)}/${base}`;
    names.set(key, parsed);
    images.push({ key, file });
  }
  const paired = pairByKey(images, masks, (image) => `no sclera mask found (expected ${path.join(path.dirname(image.file), `${baseName(image.file)}_sclera.png`)})`);
  return {
    candidates: paired.pairs.map((pair) => {
      const name = names.get(pair.key) as SbvpiName;
      const folder = dirOf(pair.key);
      const subject = folder === "" ? name.subject : folder.replaceAll("/", "_");
      return {
        id: baseName(pair.image),
        image: pair.image,
        mask: pair.mask,
        subject,
        attributes: { source: "sbvpi", eye: name.eye, gaze: name.gaze },
      };
    }),
    problems: [...problems, ...paired.problems],
    ignored: ignored.sort(),
    folders: [root],
  };
}
