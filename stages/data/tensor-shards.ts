/**
 * The `tensors` artifact that `resize` writes and training reads: fixed-size uint8
 * images and masks in shard files, plus a manifest that maps every row back to the
 * original file and its size.
 *
 * Layout of `<dir>/<split>-<nnnnn>.bin` holding `count` items of `size` x `size`:
 *   images: count x size x size x 3 bytes (row-major, RGB interleaved: NHWC)
 *   masks:  count x size x size bytes (NHW), right after the images, 1 = sclera, 0 = not
 * No header: the manifest says how many items each shard holds. Source files the
 * dataset artifact held (synthetic images) are carried along under `sources/` (hard
 * links where the file system allows), so the folder refers to nothing outside itself
 * but the user's files, by paths relative to the experiment file.
 *
 * Manifest version 1 gained `maskEncoding` on items with resize v2. Old manifests lack
 * it, and the field stays optional rather than bumping the version: everything else
 * reads them as before, and readers treat a missing encoding as null (unknown), which
 * only stops code that decodes the original masks (predict's ground-truth copies).
 */
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { resolveFileRef, type ItemTransform, type MaskEncoding, type PathBase, type Split } from "./dataset-manifest.js";

export const TENSOR_MANIFEST_FILE = "manifest.json";
export const TENSOR_MANIFEST_VERSION = 1;
export const IMAGE_CHANNELS = 3;
export const DEFAULT_SHARD_CAPACITY = 256;
export const SPLITS: readonly Split[] = ["train", "val", "test"];

export interface TensorShardRef {
  /** File name inside the tensors folder. */
  readonly file: string;
  readonly count: number;
  readonly bytes: number;
}

export interface TensorSplit {
  readonly count: number;
  readonly shards: readonly TensorShardRef[];
}

export interface TensorItem {
  readonly id: string;
  readonly split: Split;
  /** File name of the shard holding the item, and its row in that shard. */
  readonly shard: string;
  readonly index: number;
  /**
   * Path and sha256 of the source image (the original's file for augmented items), to
   * map predictions back onto it. Never absolute in manifests written now, so the
   * artifact survives a move of the project: with `imageBase: "experiment"` relative to
   * the experiment file's folder (the user's file), else relative to the tensors folder
   * (a file it holds under `sources/`). Older manifests hold absolute paths, which still
   * resolve. Read with `itemSourceFiles`.
   */
  readonly image: string;
  readonly imageBase?: PathBase;
  readonly imageSha256: string;
  /** The source mask, stored as `image` is. */
  readonly mask: string;
  readonly maskBase?: PathBase;
  /**
   * How the sclera is encoded in `mask`, to decode the original mask at full size.
   * Absent in manifests written before resize v2: read it with `maskEncodingOf`.
   */
  readonly maskEncoding?: MaskEncoding | null;
  /** Size of the source image after EXIF orientation, to map predictions back. */
  readonly originalWidth: number;
  readonly originalHeight: number;
  readonly subject: string | null;
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * What made the row from the source: the flip (which commutes with the resize) and
   * the augmentation (applied to the resized pixels), in the oriented image's frame;
   * null for originals.
   */
  readonly transform: ItemTransform | null;
  readonly augmentOf: string | null;
}

/** Sub-folder of a tensors folder holding the source files it carries (synthetic images). */
export const SOURCES_FOLDER = "sources";

/** Where an item's source image and mask are on this machine; `baseDir` is the experiment file's folder. */
export function itemSourceFiles(item: Pick<TensorItem, "image" | "imageBase" | "mask" | "maskBase">, tensorsDir: string, baseDir: string): { image: string; mask: string } {
  return {
    image: resolveFileRef({ path: item.image, ...(item.imageBase ? { base: item.imageBase } : {}) }, tensorsDir, baseDir),
    mask: resolveFileRef({ path: item.mask, ...(item.maskBase ? { base: item.maskBase } : {}) }, tensorsDir, baseDir),
  };
}

/** The item's mask encoding; null when unknown (a manifest written before resize v2). */
export function maskEncodingOf(item: Pick<TensorItem, "maskEncoding">): MaskEncoding | null {
  return item.maskEncoding ?? null;
}

/** What the writer needs to know about an item; it assigns split, shard and index. */
export type TensorItemInfo = Omit<TensorItem, "split" | "shard" | "index">;

/** How the pixels were produced, for people and for checks in training code. */
export interface TensorProvenance {
  readonly kernel: string;
  readonly maskKernel: string;
  readonly maskThreshold: number;
}

export interface TensorManifest {
  readonly version: typeof TENSOR_MANIFEST_VERSION;
  readonly size: number;
  readonly channels: typeof IMAGE_CHANNELS;
  readonly layout: "images-nhwc-uint8+masks-nhw-uint8";
  readonly shardCapacity: number;
  readonly provenance: TensorProvenance;
  /** Every split is present, possibly with count 0. */
  readonly splits: Readonly<Record<Split, TensorSplit>>;
  /** Ordered by split (train, val, test), shard, index. */
  readonly items: readonly TensorItem[];
}

export function shardFileName(split: Split, ordinal: number): string {
  return `${split}-${String(ordinal).padStart(5, "0")}.bin`;
}

export function shardBytes(size: number, count: number): number {
  return count * size * size * (IMAGE_CHANNELS + 1);
}

/** One shard's bytes being filled; each row has a view for its image and one for its mask. */
export class ShardInProgress {
  readonly bytes: Buffer;
  private readonly imageBytes: number;
  private readonly maskBytes: number;

  constructor(
    readonly split: Split,
    readonly file: string,
    readonly count: number,
    readonly size: number,
  ) {
    this.bytes = Buffer.alloc(shardBytes(size, count));
    this.maskBytes = size * size;
    this.imageBytes = this.maskBytes * IMAGE_CHANNELS;
  }

  /** size x size x 3 bytes to fill with RGB. */
  image(index: number): Uint8Array {
    this.checkIndex(index);
    return this.bytes.subarray(index * this.imageBytes, (index + 1) * this.imageBytes);
  }

  /** size x size bytes to fill with 0/1. */
  mask(index: number): Uint8Array {
    this.checkIndex(index);
    const start = this.count * this.imageBytes + index * this.maskBytes;
    return this.bytes.subarray(start, start + this.maskBytes);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`row ${index} is outside shard ${this.file} (${this.count} rows)`);
    }
  }
}

export interface TensorShardWriterOptions {
  readonly size: number;
  readonly shardCapacity?: number;
  readonly provenance: TensorProvenance;
}

/**
 * Writes shards split by split and then the manifest. Shards of a split are numbered
 * in the order `startShard` is called; `finish` writes manifest.json last.
 */
export class TensorShardWriter {
  readonly size: number;
  readonly shardCapacity: number;
  private readonly provenance: TensorProvenance;
  private readonly shards = new Map<Split, TensorShardRef[]>(SPLITS.map((s) => [s, []]));
  private readonly started = new Map<Split, number>(SPLITS.map((s) => [s, 0]));
  private readonly items: TensorItem[] = [];

  private constructor(
    readonly dir: string,
    options: TensorShardWriterOptions,
  ) {
    this.size = options.size;
    this.shardCapacity = options.shardCapacity ?? DEFAULT_SHARD_CAPACITY;
    this.provenance = options.provenance;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`size must be a positive integer, got ${this.size}`);
    if (!Number.isInteger(this.shardCapacity) || this.shardCapacity < 1) {
      throw new RangeError(`shardCapacity must be a positive integer, got ${this.shardCapacity}`);
    }
  }

  static async create(dir: string, options: TensorShardWriterOptions): Promise<TensorShardWriter> {
    await mkdir(dir, { recursive: true });
    return new TensorShardWriter(dir, options);
  }

  /** Row counts of the shards that `count` items of one split fill, in order. */
  plan(count: number): number[] {
    const counts: number[] = [];
    for (let start = 0; start < count; start += this.shardCapacity) counts.push(Math.min(this.shardCapacity, count - start));
    return counts;
  }

  startShard(split: Split, count: number): ShardInProgress {
    if (!Number.isInteger(count) || count < 1 || count > this.shardCapacity) {
      throw new RangeError(`a shard holds 1..${this.shardCapacity} items, got ${count}`);
    }
    const ordinal = this.started.get(split) ?? 0;
    this.started.set(split, ordinal + 1);
    return new ShardInProgress(split, shardFileName(split, ordinal), count, this.size);
  }

  /** Writes the shard file and records its items (`items[i]` is row i). */
  async commitShard(shard: ShardInProgress, items: readonly TensorItemInfo[]): Promise<void> {
    if (items.length !== shard.count) {
      throw new Error(`shard ${shard.file} has ${shard.count} rows but ${items.length} items were given`);
    }
    await writeFile(path.join(this.dir, shard.file), shard.bytes);
    this.shards.get(shard.split)?.push({ file: shard.file, count: shard.count, bytes: shard.bytes.length });
    items.forEach((info, index) => this.items.push({ ...info, split: shard.split, shard: shard.file, index }));
  }

  async finish(): Promise<TensorManifest> {
    const splits = {} as Record<Split, TensorSplit>;
    for (const split of SPLITS) {
      const shards = this.shards.get(split) ?? [];
      splits[split] = { count: shards.reduce((sum, s) => sum + s.count, 0), shards };
    }
    const order = (item: TensorItem): number => SPLITS.indexOf(item.split);
    const items = [...this.items].sort(
      (a, b) => order(a) - order(b) || compareStrings(a.shard, b.shard) || a.index - b.index,
    );
    const manifest: TensorManifest = {
      version: TENSOR_MANIFEST_VERSION,
      size: this.size,
      channels: IMAGE_CHANNELS,
      layout: "images-nhwc-uint8+masks-nhw-uint8",
      shardCapacity: this.shardCapacity,
      provenance: this.provenance,
      splits,
      items,
    };
    await writeFile(path.join(this.dir, TENSOR_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }
}

/** One shard as read back: `images[i*size*size*3 ...]` and `masks[i*size*size ...]` are row i. */
export interface TensorBatch {
  readonly split: Split;
  readonly file: string;
  readonly count: number;
  readonly size: number;
  readonly images: Uint8Array;
  readonly masks: Uint8Array;
  readonly items: readonly TensorItem[];
}

export interface TensorSample {
  readonly item: TensorItem;
  /** size x size x 3 RGB bytes. */
  readonly image: Uint8Array;
  /** size x size bytes, 0/1. */
  readonly mask: Uint8Array;
}

export interface TensorShards {
  readonly dir: string;
  readonly manifest: TensorManifest;
  /** The split's shards in order, one whole shard at a time. */
  readSplit(split: Split): AsyncIterable<TensorBatch>;
  /** One item, reading only its bytes. */
  readItem(id: string): Promise<TensorSample>;
}

export async function openTensorShards(dir: string): Promise<TensorShards> {
  const manifest = await readTensorManifest(dir);
  const byId = new Map(manifest.items.map((item) => [item.id, item]));
  const byShard = new Map<string, TensorItem[]>();
  for (const item of manifest.items) {
    const rows = byShard.get(item.shard) ?? [];
    rows[item.index] = item;
    byShard.set(item.shard, rows);
  }
  const { size } = manifest;
  const imageBytes = size * size * IMAGE_CHANNELS;
  const maskBytes = size * size;

  async function* readSplit(split: Split): AsyncIterable<TensorBatch> {
    const entry = manifest.splits[split];
    if (entry === undefined) throw new Error(`${dir}: no split "${split}" in the tensor manifest`);
    for (const shard of entry.shards) {
      const file = path.join(dir, shard.file);
      const bytes = await readFile(file);
      checkShardSize(file, bytes.length, size, shard.count);
      const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      yield {
        split,
        file: shard.file,
        count: shard.count,
        size,
        images: view.subarray(0, shard.count * imageBytes),
        masks: view.subarray(shard.count * imageBytes),
        items: byShard.get(shard.file) ?? [],
      };
    }
  }

  async function readItem(id: string): Promise<TensorSample> {
    const item = byId.get(id);
    if (item === undefined) throw new Error(`${dir}: no item "${id}" in the tensor manifest`);
    const shard = manifest.splits[item.split].shards.find((s) => s.file === item.shard);
    if (shard === undefined) throw new Error(`${dir}: item "${id}" names shard ${item.shard}, which is not listed`);
    const file = path.join(dir, shard.file);
    const handle = await open(file, "r");
    try {
      checkShardSize(file, (await handle.stat()).size, size, shard.count);
      const image = new Uint8Array(imageBytes);
      const mask = new Uint8Array(maskBytes);
      await handle.read(image, 0, imageBytes, item.index * imageBytes);
      await handle.read(mask, 0, maskBytes, shard.count * imageBytes + item.index * maskBytes);
      return { item, image, mask };
    } finally {
      await handle.close();
    }
  }

  return { dir, manifest, readSplit, readItem };
}

export async function readTensorManifest(dir: string): Promise<TensorManifest> {
  const file = path.join(dir, TENSOR_MANIFEST_FILE);
  const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
  if (typeof parsed !== "object" || parsed === null || (parsed as { version?: unknown }).version !== TENSOR_MANIFEST_VERSION) {
    const found = typeof parsed === "object" && parsed !== null ? JSON.stringify((parsed as { version?: unknown }).version) : typeof parsed;
    throw new Error(`tensor manifest ${file}: expected version ${TENSOR_MANIFEST_VERSION}, found ${found}`);
  }
  return parsed as TensorManifest;
}

function checkShardSize(file: string, actual: number, size: number, count: number): void {
  const expected = shardBytes(size, count);
  if (actual !== expected) {
    throw new Error(`tensor shard ${file} is ${actual} bytes; ${count} items of ${size}x${size} need ${expected}`);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
