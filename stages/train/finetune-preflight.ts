/**
 * What `finetune` checks before it (or anything expensive before it) runs, from the
 * dataset facts of its `tensors` input (stages/data/dataset-facts.ts): a training split
 * with images and at least one batch of them, and a validation split to judge epochs on.
 * `run` makes the same checks on the tensors themselves, with the same words.
 */
import type { PreflightContext, PreflightProblem } from "../../pipeline/stage.js";
import { attributeValuesIn, emptySplitProblem, itemCount, readDatasetFacts, readTensorSize, type DatasetFacts } from "../data/dataset-facts.js";
import { weightsProblem } from "./balanced-order.js";
import type { FinetuneParams, SamplingParams } from "./finetune-params.js";

/** Why fine-tuning needs a val split; it is never replaced by the training split. */
export const VAL_NEED = "early stopping, reduce-LR and the best checkpoint are judged on the val loss, and best_val_dice is measured on it";

export function emptyValMessage(what: string): string {
  return `${what} is empty, but ${VAL_NEED}; give the load stage's split a val share (split.val)`;
}

export function batchTooLargeMessage(batchSize: number, items: number, detail: string): string {
  return `batch_size ${batchSize} is larger than the training set (${items} items${detail}); lower batch_size to at most ${items}`;
}

/** The model builder (stages/model/mu-net.ts) takes square inputs whose side is a multiple of this. */
export const SIZE_MULTIPLE = 32;

/** Why `size` cannot be a MU-Net input, or null; names the nearest sizes that can. */
export function inputSizeMessage(size: number): string | null {
  if (size % SIZE_MULTIPLE === 0) return null;
  const below = Math.floor(size / SIZE_MULTIPLE) * SIZE_MULTIPLE;
  const nearest = [below, below + SIZE_MULTIPLE].filter((s) => s >= SIZE_MULTIPLE).join(" or ");
  return `MU-Net takes square images whose side is a multiple of ${SIZE_MULTIPLE}, and the tensors are ${size}x${size}; use ${nearest}`;
}

export function finetunePreflight({ stageId, params, inputs }: PreflightContext<FinetuneParams>): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const tensors = readTensorSize(inputs["tensors"]);
  const sizeProblem = tensors === null ? null : inputSizeMessage(tensors.size);
  if (tensors !== null && sizeProblem !== null) problems.push({ keyPath: `stages.${tensors.stage}.params.size`, message: sizeProblem, hints: ["fine-tuning builds the model at the tensors' size"] });
  const d = readDatasetFacts(inputs["tensors"]);
  if (d === null) return problems;
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
  if (params.sampling !== undefined && train > 0) problems.push(...samplingProblems(d, params.sampling, stageId));
  return problems;
}

/** `sampling` against the training split's attributes (originals: copies share theirs). */
function samplingProblems(d: DatasetFacts, sampling: SamplingParams, stageId: string): PreflightProblem[] {
  const attributes = d.attributes;
  if (attributes === null) return [];
  const attribute = sampling.balance_by;
  const at = (key: string): string => `stages.${stageId}.params.sampling.${key}`;
  if (!attributes.names.includes(attribute)) {
    const names = attributes.names.length > 0 ? `the items' attributes: ${attributes.names.join(", ")}` : "the items have no attributes";
    return [{ keyPath: at("balance_by"), message: `sampling.balance_by: no training item has an attribute "${attribute}", so there are no groups to balance; ${names}` }];
  }
  const present = attributeValuesIn(attributes, attribute, "train");
  if (present === null) return [];
  const grouped = present.reduce((sum, [, n]) => sum + n, 0);
  if (grouped < d.originals.train) {
    return [{ keyPath: at("balance_by"), message: `sampling.balance_by: ${d.originals.train - grouped} of ${d.originals.train} original training items have no attribute "${attribute}", so they belong to no group` }];
  }
  const problem = weightsProblem(attribute, present, sampling.weights, "original items");
  return problem === null ? [] : [{ keyPath: at("weights"), message: problem }];
}
