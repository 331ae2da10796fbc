/**
 * Runs one TensorFlow op through the tensorflow backend's single-op execution
 * (`executeMultipleOutputs` of tfjs-node's NodeJSKernelBackend): the way tfjs-node's own
 * kernels reach TensorFlow ops that tfjs has no kernel name for.
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-node's N-API binding the attributes need. */
interface NativeBinding {
  readonly TF_ATTR_TYPE: number;
  readonly TF_ATTR_FLOAT: number;
  readonly TF_ATTR_STRING: number;
  readonly TF_ATTR_BOOL: number;
  readonly TF_FLOAT: number;
}

export interface NativeOpAttr {
  readonly name: string;
  readonly type: number;
  readonly value: number | string | boolean;
}

interface NativeBackendLike {
  readonly binding: NativeBinding;
  executeMultipleOutputs(name: string, attrs: NativeOpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

/** Attribute values, as the op definitions name them. */
export type AttrValue = { readonly float32Type: true } | { readonly float: number } | { readonly string: string } | { readonly bool: boolean };

/** The active backend if it is tfjs-node's (it has a binding and single-op execution), else null. */
export function nativeBackend(): NativeBackendLike | null {
  if (tf.getBackend() !== "tensorflow") return null;
  const backend = tf.backend() as unknown as Partial<NativeBackendLike>;
  return backend.binding !== undefined && typeof backend.executeMultipleOutputs === "function" ? (backend as NativeBackendLike) : null;
}

/** Executes TensorFlow op `name` eagerly and returns its `numOutputs` outputs (tracked by tfjs like any tensor). */
export function runNativeOp(name: string, attrs: Readonly<Record<string, AttrValue>>, inputs: tf.Tensor[], numOutputs: number): tf.Tensor[] {
  const backend = nativeBackend();
  if (backend === null) throw new Error(`${name} needs the tensorflow backend (active: ${tf.getBackend()})`);
  const b = backend.binding;
  const opAttrs = Object.entries(attrs).map(([attr, value]): NativeOpAttr => {
    if ("float32Type" in value) return { name: attr, type: b.TF_ATTR_TYPE, value: b.TF_FLOAT };
    if ("float" in value) return { name: attr, type: b.TF_ATTR_FLOAT, value: value.float };
    if ("string" in value) return { name: attr, type: b.TF_ATTR_STRING, value: value.string };
    return { name: attr, type: b.TF_ATTR_BOOL, value: value.bool };
  });
  return backend.executeMultipleOutputs(name, opAttrs, inputs, numOutputs);
}
