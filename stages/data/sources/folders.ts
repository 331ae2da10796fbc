/**
 * `folders`: an images folder and a masks folder. A mask pairs with the image of the
 * same relative folder and base name; `mask_name` (`{name}_mask.png`) or `mask_regex`
 * (group `name`) say how mask names derive from image names when they differ.
 */
import path from "node:path";
import { baseName, isImageName } from "../image-names.js";
import type { MaskEncoding } from "../dataset-manifest.js";
import { maskEncodingSchema } from "../mask-schema.js";
import { dirOf, fileOf, listFiles } from "./file-tree.js";
import { defineLayout, pathSchema } from "./layout.js";
import { pairByKey, type KeyedFile, type SourceScan } from "./source-scan.js";

export interface FoldersSource {
  readonly kind: "folders";
  /** Folder of images (searched recursively), relative to the experiment file. */
  readonly images: string;
  /** Folder of masks, mirroring the images' sub-folders. */
  readonly masks: string;
  /** Mask file name for an image named `<name>.<ext>`, e.g. `{name}_mask.png`. */
  readonly mask_name?: string;
  /** Alternative to mask_name: a regex over mask file names whose group `name` (or group 1) is the image's name. */
  readonly mask_regex?: string;
  /** Regex over image base names whose named groups become attributes (for evaluate's breakdowns), e.g. `^(?<kind>[a-z]+)_`. */
  readonly name_attributes?: string;
  readonly mask?: MaskEncoding;
}

export const foldersLayout = defineLayout<FoldersSource>({
  kind: "folders",
  schema: {
    additionalProperties: false,
    required: ["images", "masks"],
    properties: {
      kind: { const: "folders", description: "An images folder and a masks folder, paired by base name" },
      images: pathSchema("Images folder, relative to the experiment file (searched recursively)"),
      masks: pathSchema("Masks folder, relative to the experiment file, mirroring the images' sub-folders"),
      mask_name: { type: "string", pattern: "\\{name\\}", description: "Mask file name for image `<name>.<ext>`, e.g. `{name}_mask.png` (default: any image file named `<name>.*`)" },
      mask_regex: { type: "string", minLength: 1, description: "Regex over mask file names; group `name` (or group 1) is the image's base name" },
      name_attributes: {
        type: "string",
        minLength: 1,
        description: "Regex over image base names; each named group becomes an attribute that evaluate breaks its scores down by, e.g. `^(?<kind>[a-z]+)_` gives kind=webcam for webcam_12.jpg",
      },
      mask: maskEncodingSchema,
    },
  },
  defaultMask: { kind: "binary" },
  inputs: (source, baseDir) => [
    { path: path.resolve(baseDir, source.images), about: "source.images" },
    { path: path.resolve(baseDir, source.masks), about: "source.masks" },
  ],
  scan: (source, run) => scanFolders(source, run.baseDir),
});

export async function scanFolders(source: FoldersSource, baseDir: string): Promise<SourceScan> {
  if (source.mask_name !== undefined && source.mask_regex !== undefined) {
    throw new Error("folders source: give mask_name or mask_regex, not both");
  }
  const imageDir = path.resolve(baseDir, source.images);
  const maskDir = path.resolve(baseDir, source.masks);
  const imageFiles = await listFiles(imageDir, "images folder");
  const maskFiles = await listFiles(maskDir, "masks folder");
  const ignored: string[] = [];
  const masks: KeyedFile[] = [];
  const maskPaths = new Set<string>();

  const regex = source.mask_regex !== undefined ? compileMaskRegex(source.mask_regex) : null;
  for (const rel of maskFiles) {
    const file = path.join(maskDir, rel);
    if (!isImageName(rel)) {
      ignored.push(file);
      continue;
    }
    const key = maskKey(rel, source, regex);
    if (key === null) {
      // Masks that match neither the pattern nor the regex are other files beside them.
      if (imageDir !== maskDir) ignored.push(file);
      continue;
    }
    masks.push({ key, file });
    maskPaths.add(file);
  }

  const images: KeyedFile[] = [];
  for (const rel of imageFiles) {
    const file = path.join(imageDir, rel);
    if (maskPaths.has(file)) continue; // images and masks share one folder
    if (!isImageName(rel)) {
      if (imageDir !== maskDir) ignored.push(file);
      continue;
    }
    images.push({ key: joinKey(dirOf(rel), baseName(rel)), file });
  }

  const expected = (image: KeyedFile): string => {
    const rel = path.relative(imageDir, image.file).split(path.sep).join("/");
    const name = source.mask_name?.replaceAll("{name}", baseName(rel));
    return name !== undefined
      ? `no mask found (expected ${path.join(maskDir, dirOf(rel), name)})`
      : `no mask found (expected ${path.join(maskDir, dirOf(rel), baseName(rel))}.<png|jpg|...>)`;
  };
  const { pairs, problems } = pairByKey(images, masks, expected);
  const nameAttributes = source.name_attributes !== undefined ? compileNameAttributes(source.name_attributes) : null;
  return {
    candidates: pairs.map((pair) => ({
      id: pair.key.replaceAll("/", "_"),
      image: pair.image,
      mask: pair.mask,
      subject: null,
      attributes: { source: "folders", ...attributesFromName(nameAttributes, baseName(pair.image)) },
    })),
    problems,
    ignored: [...new Set(ignored)].sort(),
    folders: [imageDir, maskDir],
  };
}

/** The key (relative folder + image base name) a mask pairs under, or null if it is no mask. */
function maskKey(rel: string, source: FoldersSource, regex: RegExp | null): string | null {
  const dir = dirOf(rel);
  const name = fileOf(rel);
  if (regex !== null) {
    const match = regex.exec(name);
    if (!match) return null;
    const imageName = match.groups?.["name"] ?? match[1];
    return imageName === undefined ? null : joinKey(dir, imageName);
  }
  if (source.mask_name !== undefined) {
    const [before, after] = splitPattern(source.mask_name);
    if (name.length <= before.length + after.length || !name.startsWith(before) || !name.endsWith(after)) return null;
    return joinKey(dir, name.slice(before.length, name.length - after.length));
  }
  return joinKey(dir, baseName(name));
}

function splitPattern(pattern: string): [string, string] {
  const at = pattern.indexOf("{name}");
  return [pattern.slice(0, at), pattern.slice(at + "{name}".length)];
}

/** `source` as a RegExp, or an error naming the param it came from. */
function compileRegex(param: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new Error(`${param} is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function compileMaskRegex(source: string): RegExp {
  const regex = compileRegex("mask_regex", source);
  const probe = new RegExp(`${source}|`).exec("");
  const hasNameGroup = probe?.groups !== undefined && "name" in probe.groups;
  if (probe === null || (!hasNameGroup && probe.length < 2)) {
    throw new Error(`mask_regex ${JSON.stringify(source)} needs a group "name" (or a first group) holding the image's name`);
  }
  return regex;
}

function joinKey(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** Attribute names the loader sets itself; `name_attributes` may not shadow them. */
const RESERVED_ATTRIBUTES = new Set(["source", "subject", "name", "split"]);

function compileNameAttributes(source: string): RegExp {
  const regex = compileRegex("name_attributes", source);
  const groups = Object.keys(new RegExp(`${source}|`).exec("")?.groups ?? {});
  if (groups.length === 0) throw new Error(`name_attributes ${JSON.stringify(source)} has no named group: write one per attribute, e.g. "^(?<kind>[a-z]+)_"`);
  const reserved = groups.filter((group) => RESERVED_ATTRIBUTES.has(group));
  if (reserved.length > 0) throw new Error(`name_attributes: group name ${reserved.map((g) => JSON.stringify(g)).join(", ")} is set by the loader itself; choose another`);
  return regex;
}

/** The named groups `regex` matches in an image's base name (none when it does not match). */
function attributesFromName(regex: RegExp | null, name: string): Record<string, string> {
  const groups = regex?.exec(name)?.groups ?? {};
  return Object.fromEntries(Object.entries(groups).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
