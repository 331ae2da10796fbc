/**
 * The SSBC submission layout that `predict` and `mu-pipe predict` write:
 *
 *   Predictions/<name>.png   8-bit greyscale probability, level k = round(p * 255)
 *   Binarised/<name>.png     0/255: level / 255 >= threshold
 *   GroundTruth/<name>.png   0/255 sclera mask, for items that have one (no folder when none has)
 *   predictions.json         threshold and one record per item (PredictionsFile)
 *
 * every PNG at the image's original size (after EXIF orientation). `<name>` is the
 * ground truth's file base name (the image's when there is no mask) with `.png`, as
 * SSBC names submissions after the ground truth; see `assignNames`. Overlays, when
 * asked for, go to a folder of their own as `<name without .png>.jpg`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";

import type { MaskEncoding, Split } from "../data/dataset-manifest.js";
import { baseName } from "../data/image-files.js";
import { InputFileError } from "../data/input-problems.js";
import { decodeScleraMask } from "../data/masks.js";
import { readOrientedRgb } from "./image-input.js";
import { composeOverlay } from "./overlay.js";
import { binarise, resizeProbabilityMap } from "./probability.js";
import type { Tta } from "../model/tta.js";

export const SUBMISSION_FOLDERS = { predictions: "Predictions", binarised: "Binarised", groundTruth: "GroundTruth" } as const;
export const PREDICTIONS_FILE = "predictions.json";
export const PREDICTIONS_FILE_VERSION = 1;

/** One predicted image in `predictions.json`. */
export interface PredictionRecord {
  readonly id: string;
  /** File name in Predictions/, Binarised/ and GroundTruth/, e.g. `1_L_1.png`. */
  readonly name: string;
  /** The tensors' split; null for images given as files. */
  readonly split: Split | null;
  readonly subject: string | null;
  readonly attributes: Readonly<Record<string, string>>;
}

/** `predictions.json`. */
export interface PredictionsFile {
  readonly version: typeof PREDICTIONS_FILE_VERSION;
  /** The threshold the Binarised masks were cut at. */
  readonly threshold: number;
  /** Set when the maps are test-time augmented (`flip`: averaged with the mirrored map); absent: plain maps. */
  readonly tta?: Tta;
  readonly items: readonly PredictionRecord[];
}

/**
 * File names for items, in order: each item's `nameSource` (the ground truth's path, or
 * the image's) as `<base name>.png`. Items whose base names collide fall back to their
 * id; any name still taken gets `-2`, `-3`, ... Names compare case-insensitively, so
 * the folder also works on case-insensitive file systems.
 */
export function assignNames(items: readonly { readonly id: string; readonly nameSource: string }[]): string[] {
  const key = (name: string): string => name.toLowerCase();
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(baseName(item.nameSource)), (counts.get(key(baseName(item.nameSource))) ?? 0) + 1);
  const taken = new Set<string>();
  return items.map((item) => {
    const base = baseName(item.nameSource);
    let stem = (counts.get(key(base)) ?? 0) > 1 ? safeStem(item.id) : base;
    if (taken.has(key(stem))) {
      let n = 2;
      while (taken.has(key(`${stem}-${n}`))) n++;
      stem = `${stem}-${n}`;
    }
    taken.add(key(stem));
    return `${stem}.png`;
  });
}

/** Ids may contain `/` (nested sources); a file name may not. */
function safeStem(id: string): string {
  return id.replace(/[/\\]/g, "_");
}

export interface SubmissionEntry extends PredictionRecord {
  /** The model's probability map (mapSize x mapSize), row-major. */
  readonly probability: Float32Array;
  readonly mapSize: number;
  /** Size to write, the image's after EXIF orientation. */
  readonly originalWidth: number;
  readonly originalHeight: number;
  /** The source image (for overlays). */
  readonly image: string;
  /** The source mask and its encoding, or null (no ground truth). */
  readonly groundTruth: { readonly file: string; readonly encoding: MaskEncoding } | null;
}

export interface SubmissionOptions {
  readonly threshold: number;
  /** Recorded in predictions.json when not `none`. */
  readonly tta?: Tta;
  /** Folder for overlay JPEGs, or null for none. */
  readonly overlaysDir: string | null;
}

/** Writes entries into a submission folder, then `predictions.json` with `finish`. */
export class SubmissionWriter {
  private readonly records: PredictionRecord[] = [];
  private groundTruths = 0;

  private constructor(
    readonly dir: string,
    private readonly options: SubmissionOptions,
  ) {}

  static async create(dir: string, options: SubmissionOptions): Promise<SubmissionWriter> {
    if (!(options.threshold >= 0 && options.threshold <= 1)) throw new RangeError(`threshold must be in [0, 1], got ${options.threshold}`);
    // GroundTruth/ only once an item has one: without it, `mu-pipe score` and evaluate say the truth is missing.
    for (const folder of [SUBMISSION_FOLDERS.predictions, SUBMISSION_FOLDERS.binarised]) await mkdir(path.join(dir, folder), { recursive: true });
    if (options.overlaysDir !== null) await mkdir(options.overlaysDir, { recursive: true });
    return new SubmissionWriter(dir, options);
  }

  get count(): number {
    return this.records.length;
  }

  get groundTruthCount(): number {
    return this.groundTruths;
  }

  /** Writes one image's files. Problems with its source files throw InputFileError. */
  async write(entry: SubmissionEntry): Promise<void> {
    const { originalWidth: width, originalHeight: height, name } = entry;
    if (entry.probability.length !== entry.mapSize * entry.mapSize) {
      throw new RangeError(`${entry.id}: probability map has ${entry.probability.length} values, expected ${entry.mapSize}x${entry.mapSize}`);
    }
    const levels = resizeProbabilityMap(entry.probability, entry.mapSize, entry.mapSize, width, height);
    const binary = binarise(levels, this.options.threshold);
    const truth = entry.groundTruth === null ? null : await readGroundTruth(entry.groundTruth.file, entry.groundTruth.encoding, width, height);
    if (truth !== null && this.groundTruths === 0) await mkdir(path.join(this.dir, SUBMISSION_FOLDERS.groundTruth), { recursive: true });
    await Promise.all([
      writeGreyPng(path.join(this.dir, SUBMISSION_FOLDERS.predictions, name), levels, width, height),
      writeGreyPng(path.join(this.dir, SUBMISSION_FOLDERS.binarised, name), binary, width, height),
      truth === null ? undefined : writeGreyPng(path.join(this.dir, SUBMISSION_FOLDERS.groundTruth, name), truth, width, height),
    ]);
    if (this.options.overlaysDir !== null) {
      const photo = await readOrientedRgb(entry.image);
      if (photo.width !== width || photo.height !== height) {
        throw new InputFileError([entry.image], `image is ${photo.width}x${photo.height} but was ${width}x${height} when resized; it changed since`);
      }
      const overlay = composeOverlay(photo.pixels, binary, truth, width, height);
      const file = path.join(this.options.overlaysDir, `${path.basename(name, ".png")}.jpg`);
      await sharp(overlay, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
    }
    if (truth !== null) this.groundTruths++;
    this.records.push({ id: entry.id, name, split: entry.split, subject: entry.subject, attributes: entry.attributes });
  }

  /** Writes `predictions.json` (items in the order written) and returns it. */
  async finish(): Promise<PredictionsFile> {
    const { threshold, tta } = this.options;
    // Plain maps keep the file as it was before TTA existed (and so their digests).
    const file: PredictionsFile = { version: PREDICTIONS_FILE_VERSION, threshold, ...(tta === undefined || tta === "none" ? {} : { tta }), items: this.records };
    await writeFile(path.join(this.dir, PREDICTIONS_FILE), `${JSON.stringify(file, null, 2)}\n`);
    return file;
  }
}

/** The source mask as 0/255 at the image's size. */
async function readGroundTruth(file: string, encoding: MaskEncoding, width: number, height: number): Promise<Uint8Array> {
  let decoded: Awaited<ReturnType<typeof decodeScleraMask>>;
  try {
    decoded = await decodeScleraMask(file, encoding);
  } catch (error) {
    throw new InputFileError([file], `cannot read mask: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (decoded.width !== width || decoded.height !== height) {
    throw new InputFileError([file], `mask is ${decoded.width}x${decoded.height} but its image is ${width}x${height}`);
  }
  const out = new Uint8Array(decoded.mask.length);
  for (let i = 0; i < out.length; i++) if (decoded.mask[i] !== 0) out[i] = 255;
  return out;
}

/** A single-channel 8-bit PNG. */
export async function writeGreyPng(file: string, pixels: Uint8Array, width: number, height: number): Promise<void> {
  await sharp(pixels, { raw: { width, height, channels: 1 } }).toColourspace("b-w").png().toFile(file);
}
