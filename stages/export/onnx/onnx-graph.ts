/**
 * Collects an ONNX graph: nodes in the order they are added (callers add them in
 * topological order), float32 and int64 initializers stored as little-endian `raw_data`,
 * and names made unique. Knows ONNX, not Keras.
 */
import { ATTRIBUTE_TYPE, DATA_TYPE, type AttributeMessage, type GraphMessage, type NodeMessage, type TensorMessage, type ValueInfoMessage } from "./onnx-proto.js";

/** An attribute value: a number is an INT unless wrapped with `float()`. */
export type AttributeValue = number | string | readonly number[] | { readonly float: number } | { readonly floats: readonly number[] };

export const float = (value: number): { float: number } => ({ float: value });
export const floats = (values: readonly number[]): { floats: readonly number[] } => ({ floats: values });

/** A dimension of a graph input or output: a size, or a name for a size known only at run time. */
export type Dimension = number | string;

/** A value name taken ahead, e.g. a graph output's, for the node that will compute it. */
export class ReservedName {
  constructor(readonly name: string) {}
}

export class OnnxGraph {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly names = new Set<string>();
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];

  constructor(readonly name: string) {}

  /** `base`, or `base_1`, `base_2`, ... if taken; the name is then taken. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Takes `name` now (made unique) for the node added later that lists the result among its outputs. */
  reserve(name: string): ReservedName {
    return new ReservedName(this.uniqueName(name));
  }

  /** A float32 graph input of the given shape. */
  addInput(name: string, shape: readonly Dimension[], doc?: string): string {
    const unique = this.uniqueName(name);
    this.inputs.push(valueInfo(unique, shape, doc));
    return unique;
  }

  /** Declares `value` a float32 graph output of the given shape. */
  addOutput(value: string, shape: readonly Dimension[], doc?: string): void {
    this.outputs.push(valueInfo(value, shape, doc));
  }

  /** A float32 constant, `values` row-major in `dims`. */
  addFloats(name: string, dims: readonly number[], values: Float32Array | readonly number[]): string {
    checkSize(name, dims, values.length);
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
    return this.addInitializer(name, dims, DATA_TYPE.FLOAT, bytes);
  }

  /** An int64 constant (for shapes, pads and the like). */
  addInt64s(name: string, dims: readonly number[], values: readonly number[]): string {
    checkSize(name, dims, values.length);
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((value, i) => view.setBigInt64(i * 8, BigInt(value), true));
    return this.addInitializer(name, dims, DATA_TYPE.INT64, bytes);
  }

  /** Adds a node; returns its output names (made unique from `outputs`). */
  addNode(opType: string, name: string, inputs: readonly string[], outputs: readonly (string | ReservedName)[], attributes: Readonly<Record<string, AttributeValue>> = {}): string[] {
    const outputNames = outputs.map((output) => (output instanceof ReservedName ? output.name : this.uniqueName(output)));
    this.nodes.push({
      name: this.uniqueName(`${name}/${opType}`),
      op_type: opType,
      input: [...inputs],
      output: outputNames,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputNames;
  }

  /** Adds a one-output node, named after `name`, and returns its output name. */
  op(opType: string, name: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}): string {
    return this.addNode(opType, name, inputs, [name], attributes)[0] as string;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get initializerCount(): number {
    return this.initializers.length;
  }

  toMessage(doc?: string): GraphMessage {
    return { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs, ...(doc === undefined ? {} : { doc_string: doc }) };
  }

  private addInitializer(name: string, dims: readonly number[], dataType: number, bytes: Uint8Array): string {
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dims: [...dims], data_type: dataType, raw_data: bytes });
    return unique;
  }
}

function checkSize(name: string, dims: readonly number[], length: number): void {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== length) throw new Error(`internal error: initializer ${name} has ${length} values for dims [${dims.join(", ")}]`);
}

function valueInfo(name: string, shape: readonly Dimension[], doc: string | undefined): ValueInfoMessage {
  return {
    name,
    type: { tensor_type: { elem_type: DATA_TYPE.FLOAT, shape: { dim: shape.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
    ...(doc === undefined ? {} : { doc_string: doc }),
  };
}

function attribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`internal error: attribute ${name} is an INT but got ${value}; wrap floats with float()`);
    return { name, type: ATTRIBUTE_TYPE.INT, i: value };
  }
  if (typeof value === "string") return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value) };
  if ("float" in value) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value.float };
  if ("floats" in value) return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...value.floats] };
  return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...value] };
}
