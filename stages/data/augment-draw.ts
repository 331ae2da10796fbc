/**
 * The pure part of the `augment` stage: drawing each copy's concrete values and the
 * output manifest. No pixel is touched; `resize` applies the drawn values.
 *
 * Each copy draws from its own generator, seeded by (experiment seed, item id, k), so a
 * copy's values do not depend on the order of the items or on which other items there
 * are. Every op draws its values whether or not it is on, so switching one op off
 * leaves the others' values as they were.
 */
import type { Augmentation, DatasetItem, DatasetManifest } from "./dataset-manifest.js";
import type { AugmentParams, Range } from "./augment-params.js";
import { derivedSeed, makeRandom } from "./split.js";

/** The id of an item's k-th augmented copy (k from 1). */
export function augmentedId(id: string, k: number): string {
  return `${id}_aug${k}`;
}

/** The generator of copy k of item `id` under the experiment seed. */
export function copySeed(seed: number, id: string, k: number): number {
  return derivedSeed(seed, `augment:${id}:${k}`);
}

/** Values kept to 4 decimals: the manifest reads well and holds exactly what resize applies. */
const round4 = (v: number): number => Math.round(v * 1e4) / 1e4 + 0; // + 0: no -0 in the JSON

/** One copy's concrete values, drawn from `random` in a fixed order. */
export function drawAugmentation(params: AugmentParams, random: () => number): Augmentation {
  const symmetric = (max: number): number => (2 * random() - 1) * max;
  const logUniform = (range: Range): number => {
    const u = random();
    return range === null ? 1 : Math.exp(Math.log(range[0]) + u * (Math.log(range[1]) - Math.log(range[0])));
  };
  const rotate = symmetric(params.rotate);
  const scale = logUniform(params.scale);
  const tx = symmetric(params.translate);
  const ty = symmetric(params.translate);
  const brightness = 1 + symmetric(params.brightness);
  const contrast = 1 + symmetric(params.contrast);
  const gamma = logUniform(params.gamma);
  const hue = symmetric(params.hue);
  const saturation = 1 + symmetric(params.saturation);
  const blurs = random() < params.blur;
  const [sigmaMin, sigmaMax] = params.blur_sigma;
  const sigma = sigmaMin + random() * (sigmaMax - sigmaMin);
  const noise = random() * params.noise;
  const noiseSeed = Math.floor(random() * 2 ** 32);
  const compresses = random() < params.jpeg;
  const [qualityMin, qualityMax] = params.jpeg_quality;
  const quality = Math.min(qualityMax, qualityMin + Math.floor(random() * (qualityMax - qualityMin + 1)));
  return {
    rotate: round4(rotate),
    scale: round4(scale),
    tx: round4(tx),
    ty: round4(ty),
    brightness: round4(brightness),
    contrast: round4(contrast),
    gamma: round4(gamma),
    hue: round4(hue),
    saturation: round4(saturation),
    blur: blurs ? round4(sigma) : null,
    noise: round4(noise),
    noiseSeed,
    jpeg: compresses ? quality : null,
  };
}

/** Whether `augment` makes copies of `item` under `params`. */
export function isAugmented(item: DatasetItem, params: AugmentParams, splits: ReadonlySet<string>): boolean {
  if (!splits.has(item.split) || item.transform?.augment !== undefined) return false;
  return item.transform === undefined || params.include_augmented;
}

/**
 * The output manifest: every input item, each followed by its copies. A copy keeps its
 * item's files, split, subject, attributes and flip; `augmentOf` names the original
 * (for a flipped item, the item it was mirrored from).
 */
export function addAugmentations(input: DatasetManifest, params: AugmentParams, seed: number): DatasetManifest {
  const splits = new Set<string>(params.splits);
  const ids = new Set(input.items.map((item) => item.id));
  const items: DatasetItem[] = [];
  for (const item of input.items) {
    items.push(item);
    if (!isAugmented(item, params, splits)) continue;
    for (let k = 1; k <= params.copies; k++) {
      const id = augmentedId(item.id, k);
      if (ids.has(id)) throw new Error(`augment: item id "${id}" already exists in the input manifest`);
      ids.add(id);
      const augment = drawAugmentation(params, makeRandom(copySeed(seed, item.id, k)));
      items.push({ ...item, id, transform: { ...item.transform, augment }, augmentOf: item.augmentOf ?? item.id });
    }
  }
  return { ...input, items };
}
