/**
 * The work of the `load` stage: scan the source, check each pair, split, write.
 *
 * Every unusable file is collected before failing, so one run names them all (the
 * error lists the first few). With `on_invalid: skip` those items are left out and
 * listed in report.json and the manifest's `skipped`.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { StageContext, StageOutcome } from "../../pipeline/stage.js";
import {
  DATASET_MANIFEST_FILE,
  DATASET_MANIFEST_VERSION,
  experimentPath,
  type DatasetItem,
  type DatasetManifest,
  type FileRef,
  type MaskEncoding,
  type SkippedItem,
  type Split,
} from "./dataset-manifest.js";
import { attributeMetrics } from "./dataset-facts.js";
import { inspectImage, sha256Hex } from "./image-files.js";
import { InputFileError, InputProblems } from "./input-problems.js";
import { checkSplitFractions, maskEncodingOf, withDefaults, type LoadParams, type SourceParams, type SplitBy } from "./load-params.js";
import { analyseMaskBytes, describeMaskProblem, findMaskProblems } from "./masks.js";
import { layoutOf } from "./sources/layouts.js";
import { compare, type Candidate, type SourceScan } from "./sources/source-scan.js";
import { assignFoldSplits, assignSplits, defaultSplitBy, derivedSeed, readSplitFile, shuffled, makeRandom, SPLITS } from "./split.js";
import { forEachConcurrently } from "./work-pool.js";

export const LOAD_REPORT_FILE = "report.json";
export const LOAD_REPORT_VERSION = 1;

/** `dataset/report.json`: what was read, what was left out and why. */
export interface LoadReport {
  readonly version: typeof LOAD_REPORT_VERSION;
  readonly source: SourceParams["kind"];
  /** The folders scanned (absolute). */
  readonly folders: readonly string[];
  readonly maskEncoding: MaskEncoding;
  readonly splitBy: SplitBy | "file";
  readonly counts: { readonly items: number; readonly train: number; readonly val: number; readonly test: number; readonly subjects: number };
  /** Items left out (`on_invalid: skip`), with the files at fault and why. */
  readonly skipped: readonly SkippedItem[];
  /** Files that are not part of the layout (non-images, other mask kinds), absolute. */
  readonly ignored: readonly string[];
  /** Items dropped by `limit` (not a problem; for the record). */
  readonly limitedOut: number;
}

/** How many items are checked at once (sharp decodes on its own thread pool). */
const CONCURRENCY = 4;

export async function runLoad(ctx: StageContext<LoadParams>): Promise<StageOutcome> {
  const params = withDefaults(ctx.params);
  checkSplitFractions(params.split);
  const datasetDir = path.join(ctx.outDir, "dataset");
  await mkdir(datasetDir, { recursive: true });

  const source = params.source;
  const encoding = maskEncodingOf(source);
  ctx.progress({ message: `scanning ${source.kind} source` });
  const scan = await scanSource(source, ctx, datasetDir);
  if (scan.candidates.length === 0 && scan.problems.length === 0) {
    const others = scan.ignored.length > 0 ? ` (${scan.ignored.length} non-image file(s) ignored, e.g. ${scan.ignored[0]})` : "";
    throw new Error(`load: found no images in ${scan.folders.join(" and ")}${others}`);
  }

  const all = withUniqueIds(scan.candidates);
  const chosen = params.limit !== undefined && params.limit < all.length ? pickSubset(all, params.limit, ctx.seed) : all;
  ctx.log(`${scan.candidates.length} pairs found, ${chosen.length} checked, ${scan.problems.length} pairing problems`);

  const checked = await checkCandidates(chosen, encoding, datasetDir, ctx);
  const skipped = [...scan.problems, ...checked.problems].sort((a, b) => compare(a.files[0] ?? "", b.files[0] ?? ""));
  if (skipped.length > 0 && params.on_invalid === "error") {
    const problems = new InputProblems();
    for (const problem of skipped) problems.add(new InputFileError(problem.files, problem.reason));
    throw problems.toError("load");
  }
  if (checked.items.length === 0) {
    throw new Error(`load: no usable items in ${scan.folders.join(" and ")}: all ${skipped.length} were invalid (see report.json)`);
  }

  const { splits, by } = await decideSplits(checked.items, params, ctx);
  const items: DatasetItem[] = checked.items
    .map((item) => ({ ...item, split: splits.get(item.id) as Split }))
    .sort((a, b) => compare(a.id, b.id));

  const manifest: DatasetManifest = { version: DATASET_MANIFEST_VERSION, items, skipped };
  const counts = {
    items: items.length,
    train: items.filter((i) => i.split === "train").length,
    val: items.filter((i) => i.split === "val").length,
    test: items.filter((i) => i.split === "test").length,
    subjects: new Set(items.flatMap((i) => (i.subject === null ? [] : [i.subject]))).size,
  };
  const report: LoadReport = {
    version: LOAD_REPORT_VERSION,
    source: source.kind,
    folders: scan.folders,
    maskEncoding: encoding,
    splitBy: by,
    counts,
    skipped,
    ignored: scan.ignored,
    limitedOut: all.length - chosen.length,
  };
  await writeFile(path.join(datasetDir, DATASET_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(path.join(datasetDir, LOAD_REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  ctx.log(`wrote ${items.length} items (train ${counts.train}, val ${counts.val}, test ${counts.test}), ${skipped.length} skipped`);
  return { metrics: { ...counts, split_by: by, skipped: skipped.length, ignored: scan.ignored.length, ...attributeMetrics(items) } };
}

function scanSource(source: SourceParams, ctx: StageContext<LoadParams>, datasetDir: string): Promise<SourceScan> {
  return layoutOf(source).scan(source, { baseDir: ctx.baseDir, seed: ctx.seed, datasetDir, signal: ctx.signal, progress: (u) => ctx.progress(u) });
}

/** Ids made file-system safe (`[A-Za-z0-9._-]`) and unique (`_2`, `_3`, ... in path order). */
export function withUniqueIds(candidates: readonly Candidate[]): Candidate[] {
  const sorted = [...candidates].sort((a, b) => compare(a.image, b.image));
  const used = new Set<string>();
  const out: Candidate[] = [];
  for (const candidate of sorted) {
    const safe = candidate.id.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "item";
    let id = safe;
    for (let n = 2; used.has(id); n++) id = `${safe}_${n}`;
    used.add(id);
    out.push({ ...candidate, id });
  }
  return out.sort((a, b) => compare(a.id, b.id));
}

function pickSubset(candidates: readonly Candidate[], limit: number, seed: number): Candidate[] {
  return shuffled(candidates, makeRandom(derivedSeed(seed, "limit")))
    .slice(0, limit)
    .sort((a, b) => compare(a.id, b.id));
}

type UnsplitItem = Omit<DatasetItem, "split">;

/** Reads and checks every pair: images decode fully, masks decode, sizes match, masks are usable. */
async function checkCandidates(
  candidates: readonly Candidate[],
  encoding: MaskEncoding,
  datasetDir: string,
  ctx: StageContext<LoadParams>,
): Promise<{ items: UnsplitItem[]; problems: SkippedItem[] }> {
  const items: (UnsplitItem | null)[] = new Array<UnsplitItem | null>(candidates.length).fill(null);
  const problems: (SkippedItem | null)[] = new Array<SkippedItem | null>(candidates.length).fill(null);
  let done = 0;
  await forEachConcurrently(candidates, CONCURRENCY, ctx.signal, async (candidate, index) => {
    const result = await checkCandidate(candidate, encoding, datasetDir, ctx.baseDir);
    if ("reason" in result) problems[index] = result;
    else items[index] = result;
    done++;
    ctx.progress({ message: "checking images and masks", current: done, total: candidates.length, unit: "items" });
  });
  return {
    items: items.filter((item): item is UnsplitItem => item !== null),
    problems: problems.filter((problem): problem is SkippedItem => problem !== null),
  };
}

async function checkCandidate(candidate: Candidate, encoding: MaskEncoding, datasetDir: string, baseDir: string): Promise<UnsplitItem | SkippedItem> {
  const faults: { file: string; reason: string }[] = [];
  const image = await readChecked(candidate.image, faults, inspectImage);
  const mask = await readChecked(candidate.mask, faults, async (bytes) => {
    const analysis = await analyseMaskBytes(bytes, encoding);
    for (const problem of findMaskProblems(analysis)) faults.push({ file: candidate.mask, reason: describeMaskProblem(problem) });
    return analysis;
  });
  if (image && mask && (image.width !== mask.width || image.height !== mask.height)) {
    faults.push({
      file: candidate.mask,
      reason: `mask is ${mask.width}x${mask.height} but its image ${path.basename(candidate.image)} is ${image.width}x${image.height}`,
    });
  }
  if (faults.length > 0 || !image || !mask) {
    const files = [...new Set(faults.map((f) => f.file))];
    return { files, reason: faults.map((f) => (files.length > 1 ? `${path.basename(f.file)}: ${f.reason}` : f.reason)).join("; ") };
  }
  return {
    id: candidate.id,
    image: fileRef(candidate.image, image, datasetDir, baseDir),
    mask: fileRef(candidate.mask, mask, datasetDir, baseDir),
    maskEncoding: encoding,
    subject: candidate.subject,
    attributes: candidate.attributes,
  };
}

interface Checked {
  readonly width: number;
  readonly height: number;
  readonly sha256: string;
}

async function readChecked(
  file: string,
  faults: { file: string; reason: string }[],
  decode: (bytes: Uint8Array) => Promise<{ width: number; height: number }>,
): Promise<Checked | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    faults.push({ file, reason: `cannot read: ${error instanceof Error ? error.message : String(error)}` });
    return null;
  }
  try {
    const { width, height } = await decode(bytes);
    return { width, height, sha256: sha256Hex(bytes) };
  } catch (error) {
    faults.push({ file, reason: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

/**
 * Files inside the dataset folder (generated ones) are referred to relative to it, the
 * user's files relative to the experiment file's folder: nothing absolute (see
 * dataset-manifest.ts).
 */
function fileRef(file: string, checked: Checked, datasetDir: string, baseDir: string): FileRef {
  const relative = path.relative(datasetDir, file);
  const inside = !relative.startsWith("..") && !path.isAbsolute(relative);
  return {
    ...(inside ? { path: relative.split(path.sep).join("/") } : experimentPath(file, baseDir)),
    sha256: checked.sha256,
    width: checked.width,
    height: checked.height,
  };
}

async function decideSplits(
  items: readonly UnsplitItem[],
  params: LoadParams,
  ctx: StageContext<LoadParams>,
): Promise<{ splits: Map<string, Split>; by: SplitBy | "file" }> {
  if (params.split.file !== undefined) {
    const file = path.resolve(ctx.baseDir, params.split.file);
    const splits = await readSplitFile(file);
    const missing = items.filter((item) => !splits.has(item.id)).map((item) => item.id);
    if (missing.length > 0) {
      const listed = missing.slice(0, 5).join(", ");
      const more = missing.length > 5 ? ` and ${missing.length - 5} more` : "";
      throw new Error(`load: split file ${file} does not assign ${missing.length} item(s): ${listed}${more}`);
    }
    const known = new Set(items.map((item) => item.id));
    const unused = [...splits.keys()].filter((id) => !known.has(id)).length;
    if (unused > 0) ctx.log(`split file lists ${unused} id(s) that are not items (skipped or limited out)`);
    return { splits, by: "file" };
  }
  const by = params.split.by ?? defaultSplitBy(items);
  const { folds, fold } = params.split;
  const splits =
    folds !== undefined && fold !== undefined ? assignFoldSplits(items, params.split, by, ctx.seed, folds, fold) : assignSplits(items, params.split, by, ctx.seed);
  for (const split of SPLITS) {
    if (params.split[split] > 0 && ![...splits.values()].includes(split)) ctx.log(`warning: split ${split} is empty`);
  }
  return { splits, by };
}
