// The quality side of the input-size trade, without training: the pooled F1 a perfect
// model would score at each input size. Each ground-truth mask goes the way a
// prediction goes (resize stretches it to size x size as it does for training, predict
// scales the map back to the photo's size bilinearly and cuts it at 0.5), and is
// scored against itself the way evaluate scores (both masks at 480x360, pixels pooled).
// What is lost here no model at that size can win back: thin sclera corners and
// edges of small eyes.
//
// Usage: npm run build && node bench/size-ceiling.mjs [--images ../shared/data/eyes-dev/images]
//        [--masks ../shared/data/eyes-dev/masks] [--sclera 1] [--sizes 96,128,160,224,288,320]
//        [--groups webcam_,unityeyes_]
import { readdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { countConfusion, f1Of, sumConfusion } from "../dist/stages/eval/confusion.js";
import { resizeNearest } from "../dist/stages/eval/resample.js";
import { decodeScleraMask } from "../dist/stages/data/masks.js";
import { materialiseSource } from "../dist/stages/data/materialise.js";
import { resizeProbabilityMap } from "../dist/stages/predict/probability.js";

const root = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    images: { type: "string", default: path.join(root, "../shared/data/eyes-dev/images") },
    masks: { type: "string", default: path.join(root, "../shared/data/eyes-dev/masks") },
    sclera: { type: "string", default: "1" },
    sizes: { type: "string", default: "96,128,160,224,288,320" },
    groups: { type: "string", default: "webcam_,unityeyes_" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const groups = values.groups.split(",");
const encoding = { kind: "class-index", sclera: Number(values.sclera) };
const SCORE = [480, 360];

const pairs = readdirSync(values.images)
  .filter((name) => /\.(jpe?g|png)$/i.test(name))
  .map((name) => ({ name, image: path.join(values.images, name), mask: path.join(values.masks, name.replace(/\.[^.]+$/, ".png")) }));

const counts = new Map(); // `${group}:${size}` -> Confusion[]
for (const pair of pairs) {
  const group = groups.find((prefix) => pair.name.startsWith(prefix));
  if (group === undefined) continue;
  const truth = await decodeScleraMask(pair.mask, encoding);
  const scoredTruth = resizeNearest(truth.mask, truth.width, truth.height, ...SCORE);
  for (const size of sizes) {
    const small = await materialiseSource({ image: pair.image, mask: pair.mask, maskEncoding: encoding }, { size, kernel: "lanczos3", maskThreshold: 0.5 });
    const levels = resizeProbabilityMap(Float32Array.from(small.mask), size, size, small.width, small.height);
    const predicted = levels.map((level) => (level / 255 >= 0.5 ? 1 : 0));
    const key = `${group}:${size}`;
    const list = counts.get(key) ?? [];
    list.push(countConfusion(scoredTruth, resizeNearest(predicted, small.width, small.height, ...SCORE)));
    counts.set(key, list);
  }
}

console.log(`| input size | ${groups.map((g) => `${g.replace(/_$/, "")} (${counts.get(`${g}:${sizes[0]}`)?.length ?? 0} photos)`).join(" | ")} |`);
console.log(`| --- | ${groups.map(() => "---").join(" | ")} |`);
for (const size of sizes) {
  console.log(`| ${size} | ${groups.map((g) => f1Of(sumConfusion(counts.get(`${g}:${size}`) ?? [])).toFixed(4)).join(" | ")} |`);
}
console.log(`\npooled F1 of the ground truth after the round trip through size x size (the ceiling at that size), scored at ${SCORE.join("x")}`);
