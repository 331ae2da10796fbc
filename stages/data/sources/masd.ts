/**
 * `masd`: `root/MASD/<subject>/<name>.jpg` with masks `root/MASD_GT/<subject>/<name>.png`.
 * The two trees spell names differently (`1  (3).jpg` vs `1(3).png`), so names pair
 * after removing whitespace and case, ignoring the extension.
 */
import path from "node:path";
import { baseName, isImageName } from "../image-names.js";
import { dirOf, listFiles } from "./file-tree.js";
import { defineLayout, treeSchema, underRoot, type TreeSource } from "./layout.js";
import { pairByKey, type KeyedFile, type SourceScan } from "./source-scan.js";

export type MasdSource = TreeSource<"masd">;

export const masdLayout = defineLayout<MasdSource>({
  kind: "masd",
  schema: treeSchema("masd", "MASD: root/MASD/<subject>/*.jpg with masks in root/MASD_GT/<subject>/*.png"),
  defaultMask: { kind: "binary" },
  inputs: (source, baseDir) => [underRoot(source, baseDir, "MASD", "the photos"), underRoot(source, baseDir, "MASD_GT", "the masks")],
  scan: (source, run) => scanMasd(source, run.baseDir),
});

/** `1  (3).JPG` -> `1(3)`. */
export function normaliseMasdName(file: string): string {
  return baseName(file).replace(/\s+/g, "").toLowerCase();
}

export async function scanMasd(source: MasdSource, baseDir: string): Promise<SourceScan> {
  const root = path.resolve(baseDir, source.root);
  const imageDir = path.join(root, "MASD");
  const maskDir = path.join(root, "MASD_GT");
  const ignored: string[] = [];
  const keyed = async (dir: string, what: string): Promise<KeyedFile[]> => {
    const out: KeyedFile[] = [];
    for (const rel of await listFiles(dir, what)) {
      const file = path.join(dir, rel);
      if (isImageName(rel)) out.push({ key: `${dirOf(rel).toLowerCase()}/${normaliseMasdName(rel)}`, file });
      else ignored.push(file);
    }
    return out;
  };
  const images = await keyed(imageDir, "MASD images folder (root/MASD)");
  const masks = await keyed(maskDir, "MASD masks folder (root/MASD_GT)");
  const { pairs, problems } = pairByKey(images, masks, (image) => {
    const rel = path.relative(imageDir, image.file);
    return `no mask found in ${path.join(maskDir, path.dirname(rel))} (names compared without spaces, case or extension)`;
  });
  return {
    candidates: pairs.map((pair) => {
      const subjectDir = dirOf(path.relative(imageDir, pair.image).split(path.sep).join("/"));
      const subject = subjectDir === "" ? null : subjectDir.replaceAll("/", "_");
      const name = normaliseMasdName(pair.image);
      return {
        id: subject === null ? name : `${subject}_${name}`,
        image: pair.image,
        mask: pair.mask,
        subject,
        attributes: { source: "masd" },
      };
    }),
    problems,
    ignored: ignored.sort(),
    folders: [imageDir, maskDir],
  };
}
