/**
 * One prediction job into a submission folder, for the `predict` stage and for
 * `mu-pipe predict`: activates the backend, loads the model, settles the threshold,
 * names the outputs, predicts the tensors' items and the image files, and writes them
 * (SubmissionWriter). Callers gather the work and say what happened; this does it.
 *
 * Unreadable images are collected, not thrown: the others are still written, and the
 * caller decides how to fail (`problems`).
 */
import type { Split } from "../data/dataset-manifest.js";
import { InputFileError, InputProblems } from "../data/input-problems.js";
import type { ImageKernel } from "../data/materialise.js";
import type { TensorItem, TensorShards } from "../data/tensor-shards.js";
import type { ModelMetadata } from "../model/model-folder.js";
import { initBackend, type BackendInfo, type BackendRequest } from "../runtime/backend.js";
import { loadInferenceModel } from "./inference-model.js";
import { predictFilesInto, predictSplitInto, tensorNameSource, type ImageFile } from "./predict-images.js";
import { FALLBACK_THRESHOLD } from "./predict-params.js";
import { SubmissionWriter, assignNames } from "./submission.js";
import type { Tta } from "../model/tta.js";
import { chooseThreshold, chooseTta, type ThresholdSource, type TtaChoice } from "./threshold-file.js";

export interface PredictJob {
  readonly modelDir: string;
  /** Items of a tensors split (with ground truth), predicted first. */
  readonly tensors: {
    readonly shards: TensorShards;
    readonly split: Split;
    readonly items: readonly TensorItem[];
    /** The experiment file's folder, against which the items' source files resolve. */
    readonly baseDir: string;
  } | null;
  /** Image files (no ground truth). */
  readonly images: readonly ImageFile[];
  /** Resampling kernel for `images`. */
  readonly kernel: ImageKernel;
  readonly batchSize: number;
  readonly submissionDir: string;
  /** Where overlays go, or null for none. */
  readonly overlaysDir: string | null;
  /**
   * A threshold given by the user, and one from a threshold.json (with the TTA it
   * recorded); else the model's, else FALLBACK_THRESHOLD.
   */
  readonly threshold: { readonly given?: number; readonly file?: number; readonly fileTta?: Tta };
  /** Test-time augmentation asked for; absent: the one the threshold was chosen with (chooseTta). */
  readonly tta?: Tta;
  readonly backend: BackendRequest;
  readonly threads?: number;
  readonly signal?: AbortSignal;
  readonly log: (message: string) => void;
  /** Once the backend, model and threshold are settled, before the first image. */
  readonly onReady?: (ready: PredictReady) => void;
  /** After each image (written or not). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface PredictReady {
  readonly backend: BackendInfo;
  readonly metadata: ModelMetadata;
  readonly threshold: number;
  readonly thresholdSource: ThresholdSource;
  readonly tta: TtaChoice;
}

export interface PredictResult extends PredictReady {
  readonly written: number;
  readonly groundTruths: number;
  /** Items whose tensors carry no mask encoding (written before resize v2): no GroundTruth for them. */
  readonly withoutEncoding: number;
  /** Images that could not be read or written, sorted by message; the others were written. */
  readonly problems: readonly InputFileError[];
}

export async function predictSubmission(job: PredictJob): Promise<PredictResult> {
  const backend = await initBackend(job.backend, { purpose: "infer", threads: job.threads, log: job.log });
  const { model, metadata } = await loadInferenceModel(job.modelDir, job.log);
  try {
    const chosen = chooseThreshold({ given: job.threshold.given, file: job.threshold.file, model: metadata.threshold }, FALLBACK_THRESHOLD);
    const tta = chooseTta(job.tta, chosen.source, { file: job.threshold.fileTta, model: metadata.tta });
    job.onReady?.({ backend, metadata, threshold: chosen.threshold, thresholdSource: chosen.source, tta });

    const items = job.tensors?.items ?? [];
    const plan = [...items.map(tensorNameSource), ...job.images.map((image) => ({ id: image.id, nameSource: image.file }))];
    const names = assignNames(plan);
    const tensorNames = new Map(items.map((item, i) => [item.id, names[i] as string]));
    const imageNames = new Map(job.images.map((image, i) => [image.id, names[items.length + i] as string]));

    const writer = await SubmissionWriter.create(job.submissionDir, { threshold: chosen.threshold, tta: tta.tta, overlaysDir: job.overlaysDir });
    const problems = new CollectedProblems();
    const total = plan.length;
    let done = 0;
    const options = {
      model,
      inputSize: metadata.inputSize,
      scaling: metadata.inputScaling,
      batchSize: job.batchSize,
      tta: tta.tta,
      signal: job.signal,
      problems,
      onImage: () => job.onProgress?.(++done, total),
    };
    let withoutEncoding = 0;
    if (job.tensors !== null && items.length > 0) {
      ({ withoutEncoding } = await predictSplitInto(writer, job.tensors.shards, job.tensors.split, tensorNames, options, job.tensors.baseDir));
    }
    if (job.images.length > 0) await predictFilesInto(writer, job.images, imageNames, job.kernel, options);
    await writer.finish();
    return {
      backend,
      metadata,
      threshold: chosen.threshold,
      thresholdSource: chosen.source,
      tta,
      written: writer.count,
      groundTruths: writer.groundTruthCount,
      withoutEncoding,
      problems: problems.list(),
    };
  } finally {
    model.dispose();
  }
}

/** InputProblems that also hands back each problem, so callers can name the files. */
class CollectedProblems extends InputProblems {
  private readonly kept: InputFileError[] = [];
  override add(problem: InputFileError): void {
    const before = this.count;
    super.add(problem);
    if (this.count > before) this.kept.push(problem);
  }
  list(): InputFileError[] {
    return [...this.kept].sort((a, b) => a.message.localeCompare(b.message));
  }
}
