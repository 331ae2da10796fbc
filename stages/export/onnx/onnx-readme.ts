/** `<file>.onnx.README.txt`: what an ONNX Runtime app must feed the export and how to read its output. */
import type { ModelMetadata } from "../../model/model-folder.js";
import { scalingFormula } from "../feeding-notes.js";

export function onnxReadme(metadata: ModelMetadata, file: string): string {
  const n = metadata.inputSize;
  const threshold = metadata.threshold ?? 0.5;
  return [
    `MU-Net sclera segmentation model as ONNX (${file}), float32, for ONNX Runtime (Mobile, Web, Node, Python).`,
    `MobileNetV2 encoder (alpha ${metadata.alpha}), decoder filters [${metadata.decoderFilters.join(", ")}], made by ${metadata.createdBy}.`,
    `Resize each image to ${n}x${n} by stretching it (the aspect ratio is not kept, no padding), RGB order.`,
    `${file}.check.json holds its self-check: F1 on the run's test split next to the TF.js model's.`,
    "",
    "Input `input_image`",
    `  float32 [batch, ${n}, ${n}, 3] (NHWC, any batch): pixel values x scaled as ${scalingFormula(metadata.inputScaling).text}.`,
    "Output `head_sigmoid`",
    `  float32 [batch, ${n}, ${n}, 1]: the sclera probability of each pixel (0..1).`,
    "The model's metadata_props repeat the threshold, input size and scaling.",
    "",
    `Threshold: ${threshold}: a pixel is sclera where probability >= ${threshold}.`,
    "Resize the probability map back to the image's size (bilinear) before thresholding.",
    "",
  ].join("\n");
}
