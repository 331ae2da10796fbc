/**
 * `mobius`: `root/Images/<ID>/<ID>_<phone><light>_<Eye><gaze>_<n>.jpg` with RGB masks
 * of the same base name in `root/Masks/<ID>/`. A name that does not parse is a problem
 * (the attributes come from it).
 */
import path from "node:path";
import { baseName, isImageName } from "../image-names.js";
import { dirOf, fileOf, listFiles } from "./file-tree.js";
import { defineLayout, treeSchema, underRoot, type TreeSource } from "./layout.js";
import { pairByKey, type KeyedFile, type SourceScan } from "./source-scan.js";

export type MobiusSource = TreeSource<"mobius">;

export const MOBIUS_COLOURS = {
  sclera: [255, 0, 0] as Rgb,
  iris: [0, 255, 0] as Rgb,
  pupil: [0, 0, 255] as Rgb,
  other: [0, 0, 0] as Rgb,
};

export const mobiusLayout = defineLayout<MobiusSource>({
  kind: "mobius",
  schema: treeSchema("mobius", "MOBIUS: root/Images/<ID>/<ID>_<phone><light>_<eye><gaze>_<n>.jpg, RGB masks in root/Masks/<ID>/"),
  defaultMask: { kind: "rgb", sclera: MOBIUS_COLOURS.sclera, known: [MOBIUS_COLOURS.iris, MOBIUS_COLOURS.pupil, MOBIUS_COLOURS.other] },
  inputs: (source, baseDir) => [underRoot(source, baseDir, "Images", "the photos"), underRoot(source, baseDir, "Masks", "the masks")],
  scan: (source, run) => scanMobius(source, run.baseDir),
});
import type { Rgb, SkippedItem } from "../dataset-manifest.js";

const MOBIUS_NAME = /^(?<id>[^_]+)_(?<phone>\d+)(?<light>[A-Za-z]+)_(?<eye>[LR])(?<gaze>[A-Za-z])_(?<n>\d+)$/;

export interface MobiusName {
  readonly id: string;
  readonly phone: string;
  readonly light: string;
  readonly eye: string;
  readonly gaze: string;
  readonly n: string;
}

export function parseMobiusName(base: string): MobiusName | null {
  const g = MOBIUS_NAME.exec(base)?.groups;
  if (!g) return null;
  return {
    id: g["id"] ?? "",
    phone: g["phone"] ?? "",
    light: g["light"] ?? "",
    eye: g["eye"] ?? "",
    gaze: g["gaze"] ?? "",
    n: g["n"] ?? "",
  };
}

export async function scanMobius(source: MobiusSource, baseDir: string): Promise<SourceScan> {
  const root = path.resolve(baseDir, source.root);
  const imageDir = path.join(root, "Images");
  const maskDir = path.join(root, "Masks");
  const ignored: string[] = [];
  const problems: SkippedItem[] = [];
  const names = new Map<string, MobiusName>();
  const images: KeyedFile[] = [];
  for (const rel of await listFiles(imageDir, "MOBIUS images folder (root/Images)")) {
    const file = path.join(imageDir, rel);
    if (!isImageName(rel)) {
      ignored.push(file);
      continue;
    }
    const parsed = parseMobiusName(baseName(rel));
    if (parsed === null) {
      problems.push({ files: [file], reason: `name does not follow <ID>_<phone><light>_<L|R><gaze>_<n>: "${fileOf(rel)}"` });
      continue;
    }
    const key = `${dirOf(rel)}/${baseName(rel)}`;
    names.set(key, parsed);
    images.push({ key, file });
  }
  const masks: KeyedFile[] = [];
  for (const rel of await listFiles(maskDir, "MOBIUS masks folder (root/Masks)")) {
    const file = path.join(maskDir, rel);
    if (isImageName(rel)) masks.push({ key: `${dirOf(rel)}/${baseName(rel)}`, file });
    else ignored.push(file);
  }
  const paired = pairByKey(images, masks, (image) => {
    const rel = path.relative(imageDir, image.file);
    return `no mask found (expected ${path.join(maskDir, path.dirname(rel), baseName(rel))}.png)`;
  });
  return {
    candidates: paired.pairs.map((pair) => {
      const name = names.get(pair.key) as MobiusName;
      const folder = dirOf(pair.key);
      return {
        id: baseName(pair.image),
        image: pair.image,
        mask: pair.mask,
        subject: folder === "" ? name.id : folder.replaceAll("/", "_"),
        attributes: { source: "mobius", phone: name.phone, light: name.light, eye: name.eye, gaze: name.gaze },
      };
    }),
    problems: [...problems, ...paired.problems],
    ignored: ignored.sort(),
    folders: [imageDir, maskDir],
  };
}
