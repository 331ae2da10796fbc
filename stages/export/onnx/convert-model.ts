/**
 * Walks a TF.js functional LayersModel (one NHWC image input, one output) in its
 * topological layer order and builds the equivalent ONNX graph: a Transpose to NCHW
 * after the input, one converter per layer (layer-converters.ts), a Transpose back to
 * NHWC before the output. The batch dimension stays dynamic.
 */
import type * as tf from "@tensorflow/tfjs";

import { LAYER_CONVERTERS, type ConvertContext, type LayerConverter, type Value } from "./layer-converters.js";
import { OnnxError, unsupportedLayer } from "./onnx-error.js";
import { OnnxGraph, type Dimension } from "./onnx-graph.js";

/** The name of the dynamic batch dimension of the graph's input and output. */
export const BATCH_DIMENSION = "batch";

export interface ConvertedGraph {
  readonly graph: OnnxGraph;
  readonly inputName: string;
  readonly outputName: string;
  /** NHWC, the batch as BATCH_DIMENSION. */
  readonly inputShape: readonly Dimension[];
  readonly outputShape: readonly Dimension[];
}

interface LayerNode {
  readonly inputs: tf.SymbolicTensor[];
  readonly outputs: tf.SymbolicTensor[];
}

function nodeOf(layer: tf.layers.Layer): LayerNode {
  if (layer.inboundNodes.length !== 1) unsupportedLayer(layer, `is called ${layer.inboundNodes.length} times; the converter needs each layer called once`);
  const node = layer.inboundNodes[0] as unknown as { inputTensors: tf.SymbolicTensor[]; outputTensors: tf.SymbolicTensor[] };
  return { inputs: node.inputTensors, outputs: node.outputTensors };
}

/** The converter of each layer, checked (InputLayer maps to undefined); throws `unsupported-layer` at the first layer that cannot be converted. */
export function checkConvertible(model: tf.LayersModel): Map<string, LayerConverter | undefined> {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxError({ kind: "unsupported-model", detail: `the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the converter takes one of each` });
  }
  const converters = new Map<string, LayerConverter | undefined>();
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === "InputLayer") {
      converters.set(layer.name, undefined);
      continue;
    }
    const converter = LAYER_CONVERTERS.get(className);
    if (converter === undefined) {
      unsupportedLayer(layer, `is not a layer class the ONNX writer converts (it converts the classes MU-Net uses: InputLayer, ${[...LAYER_CONVERTERS.keys()].join(", ")})`);
    }
    nodeOf(layer);
    converter.check(layer);
    converters.set(layer.name, converter);
  }
  return converters;
}

function imageShape(tensor: tf.SymbolicTensor, what: string): [number, number, number] {
  const { shape } = tensor;
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw new OnnxError({ kind: "unsupported-model", detail: `the model's ${what} has shape [${shape.map(String).join(", ")}]; the converter needs [batch, height, width, channels] with known sizes` });
  }
  return shape.slice(1) as [number, number, number];
}

class Context implements ConvertContext {
  private readonly padded = new Map<string, string>();
  private readonly scalars = new Map<number, string>();

  constructor(readonly graph: OnnxGraph) {}

  materialize(value: Value): string {
    const { pads } = value;
    if (pads === undefined || pads.every((p) => p === 0)) return value.name;
    const key = `${value.name}|${pads.join(",")}`;
    let name = this.padded.get(key);
    if (name === undefined) {
      const [top, left, bottom, right] = pads;
      const amounts = this.graph.addInt64s(`${value.name}/pads`, [8], [0, 0, top, left, 0, 0, bottom, right]);
      name = this.graph.op("Pad", `${value.name}/padded`, [value.name, amounts], { mode: "constant" });
      this.padded.set(key, name);
    }
    return name;
  }

  scalar(value: number): string {
    let name = this.scalars.get(value);
    if (name === undefined) {
      name = this.graph.addFloats(`const_${String(value).replace(/[^0-9a-z]/gi, "_")}`, [], [value]);
      this.scalars.set(value, name);
    }
    return name;
  }
}

/** The ONNX graph of `model`; throws OnnxError for a model or layer it cannot convert. */
export function convertLayersModel(model: tf.LayersModel): ConvertedGraph {
  const converters = checkConvertible(model);
  const input = model.inputs[0] as tf.SymbolicTensor;
  const output = model.outputs[0] as tf.SymbolicTensor;
  const [height, width, channels] = imageShape(input, "input");
  const [outHeight, outWidth, outChannels] = imageShape(output, "output");

  const graph = new OnnxGraph(model.name);
  const inputLayerName = input.sourceLayer.name;
  const inputShape: Dimension[] = [BATCH_DIMENSION, height, width, channels];
  const inputName = graph.addInput(inputLayerName, inputShape);
  const reservedOutput = graph.reserve(output.sourceLayer.name);
  const outputName = reservedOutput.name;
  const values = new Map<number, Value>();
  values.set(input.id, { name: graph.op("Transpose", `${inputLayerName}/nchw`, [inputName], { perm: [0, 3, 1, 2] }) });

  const context = new Context(graph);
  for (const layer of model.layers) {
    const converter = converters.get(layer.name);
    if (converter === undefined) continue; // the InputLayer, done above
    const node = nodeOf(layer);
    const inputs = node.inputs.map((tensor) => {
      const value = values.get(tensor.id);
      if (value === undefined) throw new OnnxError({ kind: "unsupported-model", detail: `layer ${layer.name} reads tensor ${tensor.name} before any layer computes it` });
      return value;
    });
    values.set((node.outputs[0] as tf.SymbolicTensor).id, converter.convert(layer, inputs, context));
  }
  const last = values.get(output.id);
  if (last === undefined) throw new OnnxError({ kind: "unsupported-model", detail: `no layer computes the model's output ${output.name}` });
  graph.addNode("Transpose", `${output.sourceLayer.name}/nhwc`, [context.materialize(last)], [reservedOutput], { perm: [0, 2, 3, 1] });
  const outputShape: Dimension[] = [BATCH_DIMENSION, outHeight, outWidth, outChannels];
  graph.addOutput(outputName, outputShape);
  return { graph, inputName, outputName, inputShape, outputShape };
}
