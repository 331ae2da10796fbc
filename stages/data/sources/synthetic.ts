/**
 * `synthetic`: procedurally generated eyes, written into the dataset folder as
 * `images/<id>.png|jpg` and `masks/<id>.png` (binary, 0/255). Item i uses a seed derived
 * from the experiment seed and i (and, when a size range is given, a width drawn from
 * [min_size, max_size] with that seed, height 3/4 of it), so the dataset is a pure
 * function of (params, seed).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ProgressUpdate } from "../../../pipeline/stage.js";
import { derivedSeed, makeRandom } from "../split.js";
import { defineLayout } from "./layout.js";
import type { Candidate, SourceScan } from "./source-scan.js";

export interface SyntheticSource {
  readonly kind: "synthetic";
  readonly count: number;
  /** Image width range in pixels, height 3/4 of the width; when both are omitted the generator picks sizes. */
  readonly min_size?: number;
  readonly max_size?: number;
  readonly image_format?: "png" | "jpeg";
  /** Framings to generate (default all): `closeup` eyes fill the frame like phone crops, `webcam` and `face` are wide shots. */
  readonly views?: readonly ("closeup" | "webcam" | "face")[];
}

export const DEFAULT_SYNTHETIC = { image_format: "png" } as const;

export const syntheticLayout = defineLayout<SyntheticSource>({
  kind: "synthetic",
  schema: {
    additionalProperties: false,
    required: ["count"],
    properties: {
      kind: { const: "synthetic", description: "Procedurally generated eyes (written into the dataset folder)" },
      count: { type: "integer", minimum: 1, description: "Number of eyes to generate" },
      min_size: { type: "integer", minimum: 32, description: "Smallest image width in pixels, height 3/4 of it (default: the generator picks sizes and aspect ratios)" },
      max_size: { type: "integer", minimum: 32, description: "Largest image width in pixels (default: the generator picks)" },
      image_format: { enum: ["png", "jpeg"], description: "Image file format (masks are always PNG); default png" },
      views: {
        type: "array",
        items: { enum: ["closeup", "webcam", "face"] },
        minItems: 1,
        uniqueItems: true,
        description: "Framings to generate: `closeup` (one eye fills the frame, like phone crops), `webcam`, `face` (wide shots, small sclera); default all three",
      },
    },
  },
  defaultMask: { kind: "binary" },
  inputs: () => [],
  scan: (source, run) => generateSynthetic(source, run),
});

export interface SyntheticRun {
  readonly seed: number;
  /** `outDir/dataset`: images and masks go to its `images/` and `masks/`. */
  readonly datasetDir: string;
  readonly signal: AbortSignal;
  readonly progress: (update: ProgressUpdate) => void;
}

export async function generateSynthetic(source: SyntheticSource, run: SyntheticRun): Promise<SourceScan> {
  const { generateSyntheticEye } = await import("../synthetic/generate.js");
  const { default: sharp } = await import("sharp");
  const sized = source.min_size !== undefined || source.max_size !== undefined;
  const minSize = source.min_size ?? source.max_size ?? 0;
  const maxSize = source.max_size ?? source.min_size ?? 0;
  if (minSize > maxSize) throw new Error(`synthetic source: min_size ${minSize} is larger than max_size ${maxSize}`);
  const format = source.image_format ?? DEFAULT_SYNTHETIC.image_format;
  const imageDir = path.join(run.datasetDir, "images");
  const maskDir = path.join(run.datasetDir, "masks");
  await mkdir(imageDir, { recursive: true });
  await mkdir(maskDir, { recursive: true });

  const digits = String(source.count - 1).length;
  const candidates: Candidate[] = [];
  for (let i = 0; i < source.count; i++) {
    run.signal.throwIfAborted();
    const seed = derivedSeed(run.seed, `synthetic:${i}`);
    // Without a size range the generator picks sizes and aspect ratios itself.
    const width = minSize + Math.floor(makeRandom(seed)() * (maxSize - minSize + 1));
    const size = sized ? { width, height: Math.max(1, Math.round((width * 3) / 4)) } : {};
    const eye = generateSyntheticEye(seed, source.views === undefined ? size : { ...size, views: source.views });
    const id = `synthetic_${String(i).padStart(digits, "0")}`;
    const image = path.join(imageDir, `${id}.${format === "png" ? "png" : "jpg"}`);
    const mask = path.join(maskDir, `${id}.png`);
    const raw = { width: eye.width, height: eye.height };
    const imagePipeline = sharp(eye.rgb, { raw: { ...raw, channels: 3 } });
    await writeFile(image, await (format === "png" ? imagePipeline.png() : imagePipeline.jpeg({ quality: 95, chromaSubsampling: "4:4:4" })).toBuffer());
    const maskBytes = new Uint8Array(eye.sclera.length);
    for (let k = 0; k < maskBytes.length; k++) maskBytes[k] = eye.sclera[k] ? 255 : 0;
    await writeFile(mask, await sharp(maskBytes, { raw: { ...raw, channels: 1 } }).png().toBuffer());
    candidates.push({
      id,
      image,
      mask,
      subject: null,
      attributes: { ...eye.attributes, source: "synthetic", seed: String(seed) },
    });
    run.progress({ message: "generating synthetic eyes", current: i + 1, total: source.count, unit: "images" });
  }
  return { candidates, problems: [], ignored: [], folders: [run.datasetDir] };
}
