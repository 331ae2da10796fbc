/**
 * How to feed an exported model, in words: the README.txt of a TF.js export and the notes
 * the CLI prints after a Keras export. Everything here comes from the model's metadata.
 */
import type { InputScaling } from "../model/input-scaling.js";
import type { ModelMetadata } from "../model/model-folder.js";
import { unreachable } from "../../pipeline/failure.js";

/** The scaling as a formula on 0..255 pixel values `x`, and in code. */
export function scalingFormula(scaling: InputScaling): { text: string; js: string; python: string } {
  switch (scaling) {
    case "imagenet":
      return { text: "x / 127.5 - 1 (pixel values 0..255 become -1..1)", js: ".div(127.5).sub(1)", python: "x / 127.5 - 1.0" };
    case "unit":
      return { text: "x / 255 (pixel values 0..255 become 0..1)", js: ".div(255)", python: "x / 255.0" };
    default:
      return unreachable(scaling);
  }
}

function thresholdLine(metadata: ModelMetadata): string {
  return metadata.threshold === null
    ? "No threshold was chosen for this model (no threshold stage ran); 0.5 is a neutral default."
    : `Threshold: ${metadata.threshold} (swept for the best F1 by mu-pipe's threshold stage).`;
}

/** The input and output contract, as indented lines. */
export function feedingLines(metadata: ModelMetadata): string[] {
  const n = metadata.inputSize;
  return [
    "Input",
    `  float32 tensor [batch, ${n}, ${n}, 3], channels last, RGB order (not BGR; no alpha channel).`,
    `  Resize each image to ${n}x${n} by stretching it (the aspect ratio is not kept, no padding),`,
    `  then scale every value: ${scalingFormula(metadata.inputScaling).text}.`,
    "Output",
    `  float32 tensor [batch, ${n}, ${n}, 1]: the sclera probability of each pixel, already passed`,
    "  through a sigmoid (0..1). Resize it back to the image's size (bilinear), then a pixel is",
    "  sclera where probability >= threshold.",
    `  ${thresholdLine(metadata)}`,
    ...ttaLines(metadata),
  ];
}

/** A threshold chosen on flip-TTA maps cuts averaged maps: the app must average too. */
export function ttaLines(metadata: ModelMetadata): string[] {
  if (metadata.tta !== "flip") return [];
  return [
    "Test-time augmentation",
    "  The threshold was chosen on flip-averaged maps (as mu-pipe predict makes them): run the",
    "  model on the image and on its left-right mirror, mirror the second output back and take",
    "  the mean of the two maps before resizing and thresholding (twice the inference work).",
  ];
}

/** README.txt of a TF.js export folder. */
export function tfjsReadme(metadata: ModelMetadata, exportedBy: string): string {
  const n = metadata.inputSize;
  const threshold = metadata.threshold ?? 0.5;
  return [
    `MU-Net sclera segmentation model, exported by ${exportedBy} from a model made by ${metadata.createdBy}.`,
    `MobileNetV2 encoder (alpha ${metadata.alpha}), decoder filters [${metadata.decoderFilters.join(", ")}].`,
    "",
    "Files",
    "  model.json, weights.bin  a TensorFlow.js LayersModel: tf.loadLayersModel(\"<url>/model.json\")",
    "                           in a browser; in React Native, bundleResourceIO(modelJson, weights)",
    "                           from @tensorflow/tfjs-react-native.",
    "  mu-model.json            mu-pipe's metadata: inputSize, inputScaling, threshold.",
    "",
    ...feedingLines(metadata),
    "",
    "Example (browser)",
    "  const model = await tf.loadLayersModel(\"model/model.json\");",
    "  const probability = tf.tidy(() => {",
    `    const x = tf.image.resizeBilinear(tf.browser.fromPixels(image, 3), [${n}, ${n}])${scalingFormula(metadata.inputScaling).js};`,
    ...(metadata.tta === "flip"
      ? [
          "    // flip TTA: the image and its mirror in one batch, the mirror's map mirrored back",
          "    const maps = model.predict(tf.stack([x, x.reverse(1)]));",
          "    const p = maps.slice([0], [1]).add(maps.slice([1], [1]).reverse(2)).div(2);",
        ]
      : ["    const p = model.predict(x.expandDims(0));"]),
    "    return tf.image.resizeBilinear(p, [image.height, image.width]);",
    "  });",
    `  const mask = probability.greaterEqual(${threshold});`,
    "",
  ].join("\n");
}

/** What to tell someone about a Keras export, after writing it. */
export function kerasNotes(file: string, metadata: ModelMetadata): string[] {
  return [
    `Load it in Python: model = keras.models.load_model("${file}", compile=False)`,
    ...feedingLines(metadata),
    `  mu-pipe's metadata is in the file's "mu_pipe_metadata" attribute (JSON; h5py: f.attrs["mu_pipe_metadata"]).`,
  ];
}
