/**
 * `<file>.tflite.README.txt`: what a phone must feed a TFLite export and how to read its
 * output, from the model's metadata and the tensors the converter reported.
 */
import type { ModelMetadata } from "../../model/model-folder.js";
import { unreachable } from "../../../pipeline/failure.js";
import { scalingFormula, ttaLines } from "../feeding-notes.js";
import type { Quantization, TfliteTensor } from "./convert-tflite.js";

export function tfliteReadme(metadata: ModelMetadata, file: string, quantize: Quantization, facts: { input?: TfliteTensor; output?: TfliteTensor }): string {
  const n = metadata.inputSize;
  const threshold = metadata.threshold ?? 0.5;
  const thresholdNote =
    metadata.threshold === null ? "no threshold stage ran, so 0.5 is a neutral default" : "swept for the best F1 by mu-pipe's threshold stage";
  return [
    `MU-Net sclera segmentation model as TensorFlow Lite (${file}), quantisation: ${quantize}.`,
    `MobileNetV2 encoder (alpha ${metadata.alpha}), decoder filters [${metadata.decoderFilters.join(", ")}], made by ${metadata.createdBy}.`,
    `Resize each image to ${n}x${n} by stretching it (the aspect ratio is not kept, no padding), RGB order.`,
    `${file}.check.json holds its self-check: F1 on the run's test split next to the TF.js model's.`,
    "",
    ...contract(metadata, quantize, facts),
    "",
    `Threshold: ${threshold} (${thresholdNote}): a pixel is sclera where probability >= ${threshold}.`,
    "Resize the probability map back to the image's size (bilinear) before thresholding.",
    ...(metadata.tta === "flip" ? ["", ...ttaLines(metadata)] : []),
    "",
  ].join("\n");
}

function contract(metadata: ModelMetadata, quantize: Quantization, facts: { input?: TfliteTensor; output?: TfliteTensor }): string[] {
  const n = metadata.inputSize;
  switch (quantize) {
    case "none":
    case "float16":
      return [
        "Input",
        `  float32 [1, ${n}, ${n}, 3]: pixel values x scaled as ${scalingFormula(metadata.inputScaling).text}.`,
        ...(quantize === "float16" ? ["  (float16 weights only; input and output stay float32.)"] : []),
        "Output",
        `  float32 [1, ${n}, ${n}, 1]: the sclera probability of each pixel (0..1, after the sigmoid).`,
      ];
    case "int8": {
      const input = facts.input;
      const output = facts.output;
      const outScale = output?.scale ?? 1 / 256;
      const outZero = output?.zero_point ?? 0;
      return [
        "Input",
        `  uint8 [1, ${n}, ${n}, 3]: the camera's RGB bytes 0..255 as they are, no scaling.`,
        `  mu-pipe's input scaling is the model's first layer: ${scalingFormula(metadata.inputScaling).text}.`,
        `  The input's quantisation is scale ${input?.scale ?? 1}, zero point ${input?.zero_point ?? 0}: a byte stands for its own value.`,
        "Output",
        `  uint8 [1, ${n}, ${n}, 1]: q. The probability is (q - ${outZero}) * ${outScale}${outZero === 0 && outScale === 1 / 256 ? " = q / 256" : ""}`,
        "  (the output's quantisation, also in the file: interpreter.get_output_details()[0]['quantization']).",
      ];
    }
    default:
      return unreachable(quantize);
  }
}
