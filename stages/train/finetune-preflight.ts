/**
 * What `finetune` checks before it (or anything expensive before it) runs, from the
 * dataset facts of its `tensors` input (stages/data/dataset-facts.ts): a training split
 * with images and at least one batch of them, and a validation split to judge epochs on.
 * `run` makes the same checks on the tensors themselves, with the same words.
 */
import type { PreflightContext, PreflightProblem } from "../../pipeline/stage.js";
import { emptySplitProblem, itemCount, readDatasetFacts } from "../data/dataset-facts.js";
import type { FinetuneParams } from "./finetune-params.js";

/** Why fine-tuning needs a val split; it is never replaced by the training split. */
export const VAL_NEED = "early stopping, reduce-LR and the best checkpoint are judged on the val loss, and best_val_dice is measured on it";

export function emptyValMessage(what: string): string {
  return `${what} is empty, but ${VAL_NEED}; give the load stage's split a val share (split.val)`;
}

export function batchTooLargeMessage(batchSize: number, items: number, detail: string): string {
  return `batch_size ${batchSize} is larger than the training set (${items} items${detail}); lower batch_size to at most ${items}`;
}

export function finetunePreflight({ stageId, params, inputs }: PreflightContext<FinetuneParams>): PreflightProblem[] {
  const d = readDatasetFacts(inputs["tensors"]);
  if (d === null) return [];
  const problems: PreflightProblem[] = [];
  const available = itemCount(d, "train", true);
  const train = params.limit === undefined ? available : Math.min(params.limit, available);
  if (train === 0) {
    problems.push(emptySplitProblem(d, "train", "fine-tuning trains on the train split"));
  } else if (params.batch_size > train) {
    const copies = d.copies.train > 0 ? `: ${d.originals.train} images and ${d.copies.train} mirrored copies` : "";
    const limit = params.limit !== undefined && params.limit < available ? ` (limit ${params.limit})` : "";
    problems.push({ keyPath: `stages.${stageId}.params.batch_size`, message: batchTooLargeMessage(params.batch_size, train, `${copies}${limit}`) });
  }
  if (itemCount(d, "val", true) === 0) problems.push(emptySplitProblem(d, "val", VAL_NEED));
  return problems;
}
