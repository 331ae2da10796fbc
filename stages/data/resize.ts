/**
 * `resize`: materialises a dataset as fixed-size uint8 tensors (see tensor-shards.ts):
 * every item's image stretched to size x size RGB and its mask to size x size 0/1,
 * with EXIF orientation and the item's transform (flip, augmentation) applied.
 *
 * Items are processed a few at a time (sharp does the work on libuv threads) and
 * written shard by shard in manifest order, so the same input gives the same bytes.
 * Items of a shard that share their files (an original and its mirrored or augmented
 * copies from flip-augment and augment) are decoded and resized once; each gets its
 * transformed copy.
 * Unusable files do not stop the work at once: the stage collects them all and
 * then fails naming them (5 at most, then "and N more").
 */
import os from "node:os";
import path from "node:path";

import { defineStageType, type StageContext } from "../../pipeline/stage.js";
import { resolveFileRef, type DatasetItem, type FileRef, type Split } from "./dataset-manifest.js";
import { passDatasetFacts, tensorSizeFacts } from "./dataset-facts.js";
import { readDatasetManifest } from "./dataset-manifest-io.js";
import { InputFileError, InputProblems } from "./input-problems.js";
import { isArtifactFile, linkOrCopy } from "./link-artifact-files.js";
import type { MaterialiseOptions, SourceFiles } from "./materialise.js";
import { SOURCES_FOLDER, SPLITS, TensorShardWriter, type ShardInProgress, type TensorItemInfo } from "./tensor-shards.js";
import { RESIZE_OUTPUTS, resizeParamsSchema, type ResizeParams } from "./resize-params.js";
import { forEachConcurrently } from "./work-pool.js";

export type { ResizeParams } from "./resize-params.js";

/** Items per shard file. */
const SHARD_CAPACITY = 256;

export const resizeStage = defineStageType<ResizeParams>({
  name: "resize",
  // v2: items record their mask encoding (to decode the original masks at full size).
  version: 2,
  description: "Stretches every image and mask to size x size and stores them as uint8 tensor shards",
  paramsSchema: resizeParamsSchema,
  inputs: { dataset: { description: "A dataset folder with manifest.json" } },
  outputs: { [RESIZE_OUTPUTS.tensors]: { description: "uint8 image and mask shards per split, with manifest.json" } },
  // The size is known from the params before the stage runs, so finetune can check it early.
  facts: ({ stageId, params, inputs, metrics }) => ({ ...passDatasetFacts(inputs["dataset"], metrics), ...tensorSizeFacts(stageId, params.size) }),
  async run(ctx: StageContext<ResizeParams>) {
    const started = performance.now();
    const input = ctx.inputs["dataset"];
    if (input === undefined) throw new Error("resize: input `dataset` is not connected");
    const datasetDir: string = input;
    const manifest = await readDatasetManifest(datasetDir);
    const { materialiseItem, materialiseSource, MASK_KERNEL } = await import("./materialise.js");
    const options: MaterialiseOptions = {
      size: ctx.params.size,
      kernel: ctx.params.kernel,
      maskThreshold: ctx.params.mask_threshold,
    };
    const writer = await TensorShardWriter.create(path.join(ctx.outDir, "tensors"), {
      size: options.size,
      shardCapacity: SHARD_CAPACITY,
      provenance: { kernel: options.kernel, maskKernel: MASK_KERNEL, maskThreshold: options.maskThreshold },
    });
    const bySplit = groupBySplit(manifest.items);
    const total = manifest.items.length;
    const concurrency = poolSize();
    const problems = new InputProblems();
    let done = 0;

    // Files the dataset artifact holds (synthetic images) come along under sources/, so
    // the tensors refer to nothing outside themselves but the user's files (see tensor-shards.ts).
    const carried = new Set<string>();
    async function carrySources(item: DatasetItem | undefined): Promise<void> {
      for (const ref of item === undefined ? [] : [item.image, item.mask]) {
        if (!isArtifactFile(ref) || carried.has(ref.path)) continue;
        carried.add(ref.path);
        await linkOrCopy(path.join(datasetDir, ref.path), path.join(ctx.outDir, "tensors", SOURCES_FOLDER, ref.path));
      }
    }

    /** Decodes each group once and copies (transformed as needed) into its rows; returns the rows' records. */
    async function fillShard(
      shard: ShardInProgress,
      groups: readonly SourceGroup[],
      onGroupDone: (group: SourceGroup) => void,
    ): Promise<TensorItemInfo[]> {
      const infos = new Array<TensorItemInfo>(shard.count);
      await forEachConcurrently(groups, concurrency, ctx.signal, async (group) => {
        try {
          const pixels = await materialiseSource(group.files, options);
          await carrySources(group.members[0]?.item);
          for (const { item, row } of group.members) {
            await materialiseItem(pixels, shard.image(row), shard.mask(row), options.size, item.transform);
            infos[row] = {
              id: item.id,
              ...storedSources(item),
              imageSha256: item.image.sha256,
              maskEncoding: group.files.maskEncoding,
              originalWidth: pixels.width,
              originalHeight: pixels.height,
              subject: item.subject,
              attributes: item.attributes,
              transform: item.transform ?? null,
              augmentOf: item.augmentOf ?? null,
            };
          }
        } catch (error) {
          if (!(error instanceof InputFileError)) throw error;
          problems.add(error);
        }
        onGroupDone(group);
      });
      return infos;
    }

    ctx.progress({ current: 0, total, unit: "images" });
    ctx.log(`resizing ${total} items to ${options.size}x${options.size} (${options.kernel}), ${concurrency} at a time`);

    for (const split of SPLITS) {
      const items = bySplit.get(split) ?? [];
      let start = 0;
      for (const count of writer.plan(items.length)) {
        const chunk = items.slice(start, start + count);
        start += count;
        const shard = writer.startShard(split, count);
        const infos = await fillShard(shard, groupBySource(chunk, datasetDir, ctx.baseDir), (group) => {
          done += group.members.length;
          ctx.progress({ current: done, total, unit: "images" });
        });
        // Once a file has failed the stage will fail: finish checking, write nothing more.
        if (problems.count === 0) await writer.commitShard(shard, infos);
      }
    }
    if (problems.count > 0) throw problems.toError("resize");
    const written = await writer.finish();

    const seconds = (performance.now() - started) / 1000;
    ctx.log(`wrote ${total} items in ${seconds.toFixed(1)} s`);
    return {
      metrics: {
        items_train: written.splits.train.count,
        items_val: written.splits.val.count,
        items_test: written.splits.test.count,
        seconds: round(seconds, 3),
        images_per_second: round(total / Math.max(seconds, 1e-9), 1),
      },
    };
  },
});

interface SourceGroup {
  readonly files: SourceFiles;
  /** The items that use these files (an original and its mirrored or augmented copies) and their rows. */
  readonly members: { readonly item: DatasetItem; readonly row: number }[];
}

/** An item's source files as the tensors manifest stores them: as the dataset did, or under sources/ for files the dataset artifact holds. */
function storedSources(item: DatasetItem): Pick<TensorItemInfo, "image" | "imageBase" | "mask" | "maskBase"> {
  const stored = (ref: FileRef): string => (isArtifactFile(ref) ? `${SOURCES_FOLDER}/${ref.path}` : ref.path);
  return {
    image: stored(item.image),
    ...(item.image.base === undefined ? {} : { imageBase: item.image.base }),
    mask: stored(item.mask),
    ...(item.mask.base === undefined ? {} : { maskBase: item.mask.base }),
  };
}

/** Items of one shard that share image, mask and encoding, in order of first use. */
function groupBySource(items: readonly DatasetItem[], datasetDir: string, baseDir: string): SourceGroup[] {
  const groups = new Map<string, SourceGroup>();
  items.forEach((item, row) => {
    const files: SourceFiles = {
      image: resolveFileRef(item.image, datasetDir, baseDir),
      mask: resolveFileRef(item.mask, datasetDir, baseDir),
      maskEncoding: item.maskEncoding,
    };
    const key = JSON.stringify([files.image, files.mask, files.maskEncoding]);
    const group = groups.get(key) ?? { files, members: [] };
    group.members.push({ item, row });
    groups.set(key, group);
  });
  return [...groups.values()];
}

function groupBySplit(items: readonly DatasetItem[]): Map<Split, DatasetItem[]> {
  const groups = new Map<Split, DatasetItem[]>();
  for (const item of items) {
    const group = groups.get(item.split) ?? [];
    group.push(item);
    groups.set(item.split, group);
  }
  const unknown = [...groups.keys()].filter((split) => !SPLITS.includes(split));
  if (unknown.length > 0) throw new Error(`resize: dataset items have unknown split(s): ${unknown.join(", ")}`);
  return groups;
}

/**
 * Items in flight at once. sharp runs each pipeline on a libuv worker thread; a couple
 * more than the cores keeps them busy while files are read, without piling up memory.
 */
function poolSize(): number {
  return Math.min(4, Math.max(2, os.availableParallelism() + 1));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
