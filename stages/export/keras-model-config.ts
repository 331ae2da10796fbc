/**
 * A TF.js LayersModel's topology (`model.toJSON()`) rewritten as the `model_config` Keras
 * stores in a full-model HDF5 file: a `Functional` config in Keras 2's layout, which Keras 3
 * still reads through its legacy `.h5` loader (`keras.models.load_model("x.h5")`).
 *
 * TF.js already serialises in Keras's snake_case layout, but not every class and argument
 * means the same, so each layer class MU-Net uses is mapped explicitly, argument by argument,
 * and anything else is refused (naming the layer) rather than written into a file Python would
 * fail to load or, worse, load as a different model.
 */
import { ExportError } from "./export-error.js";

/** The Keras version whose config layout this writes (what `model.to_json()` gave in 2.15). */
export const KERAS_CONFIG_VERSION = "2.15.0";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One layer of a Keras functional config. */
export interface KerasLayerConfig {
  readonly class_name: string;
  readonly name: string;
  readonly config: JsonObject;
  /** Keras 2 node layout: per call, the inputs as `[layer, node index, tensor index, kwargs]`. */
  readonly inbound_nodes: Json;
}

export interface KerasModelConfig {
  readonly class_name: "Functional";
  readonly config: {
    readonly name: string;
    readonly trainable: true;
    readonly layers: KerasLayerConfig[];
    readonly input_layers: Json;
    readonly output_layers: Json;
  };
  readonly keras_version: string;
  readonly backend: "tensorflow";
}

/** Reads one layer's TF.js config; each getter throws an ExportError naming the layer. */
class LayerArgs {
  constructor(
    readonly layer: string,
    readonly className: string,
    private readonly config: JsonObject,
  ) {}

  fail(detail: string): never {
    throw new ExportError({ kind: "unsupported-layer", layer: this.layer, className: this.className, detail });
  }

  /** A value that must be present, passed on unchanged. */
  value(key: string): Json {
    const value = this.config[key];
    if (value === undefined) this.fail(`has no ${key} in its TF.js config`);
    return value;
  }

  /** A value that may be absent, with Keras's default. */
  optional(key: string, fallback: Json): Json {
    return this.config[key] ?? fallback;
  }

  /** An option Keras has too, but that MU-Net never sets: only its empty value is supported. */
  none(key: string): null {
    const value = this.config[key];
    if (value !== undefined && value !== null) this.fail(`sets ${key} (${JSON.stringify(value)}), which this exporter does not translate`);
    return null;
  }

  oneOf(key: string, allowed: readonly string[]): string {
    const value = this.config[key] ?? null;
    if (typeof value !== "string" || !allowed.includes(value)) this.fail(`has ${key} ${JSON.stringify(value)}; only ${allowed.join(", ")} can be exported`);
    return value;
  }

  /** An initializer as `{class_name, config}`; TF.js and Keras share these names. */
  initializer(key: string): Json {
    const value = this.config[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== "object" || Array.isArray(value) || typeof value.class_name !== "string") this.fail(`has an unreadable ${key}`);
    return { class_name: value.class_name, config: value.config ?? {} };
  }
}

const DATA_FORMAT = ["channels_last"] as const;
/** Activations whose TF.js and Keras names and formulas agree. */
const ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish"] as const;

function common(args: LayerArgs): JsonObject {
  return { name: args.layer, trainable: args.optional("trainable", true), dtype: "float32" };
}

function convolutionArgs(args: LayerArgs): JsonObject {
  return {
    kernel_size: args.value("kernel_size"),
    strides: args.optional("strides", [1, 1]),
    padding: args.oneOf("padding", ["valid", "same"]),
    data_format: args.oneOf("data_format", DATA_FORMAT),
    dilation_rate: args.optional("dilation_rate", [1, 1]),
    activation: args.oneOf("activation", ACTIVATIONS),
    use_bias: args.value("use_bias"),
    bias_initializer: args.initializer("bias_initializer"),
    bias_regularizer: args.none("bias_regularizer"),
    activity_regularizer: args.none("activity_regularizer"),
    bias_constraint: args.none("bias_constraint"),
  };
}

/** Keras config of each TF.js layer class MU-Net is built from. */
const LAYER_CLASSES: Readonly<Record<string, (args: LayerArgs) => JsonObject>> = {
  InputLayer: (args) => ({
    batch_input_shape: args.value("batch_input_shape"),
    dtype: args.oneOf("dtype", ["float32"]),
    sparse: false,
    ragged: false,
    name: args.layer,
  }),
  Conv2D: (args) => ({
    ...common(args),
    filters: args.value("filters"),
    ...convolutionArgs(args),
    groups: 1,
    kernel_initializer: args.initializer("kernel_initializer"),
    kernel_regularizer: args.none("kernel_regularizer"),
    kernel_constraint: args.none("kernel_constraint"),
  }),
  DepthwiseConv2D: (args) => ({
    ...common(args),
    ...convolutionArgs(args),
    depth_multiplier: args.value("depth_multiplier"),
    depthwise_initializer: args.initializer("depthwise_initializer"),
    depthwise_regularizer: args.none("depthwise_regularizer"),
    depthwise_constraint: args.none("depthwise_constraint"),
  }),
  BatchNormalization: (args) => ({
    ...common(args),
    axis: args.value("axis"),
    momentum: args.value("momentum"),
    epsilon: args.value("epsilon"),
    center: args.optional("center", true),
    scale: args.optional("scale", true),
    beta_initializer: args.initializer("beta_initializer"),
    gamma_initializer: args.initializer("gamma_initializer"),
    moving_mean_initializer: args.initializer("moving_mean_initializer"),
    moving_variance_initializer: args.initializer("moving_variance_initializer"),
    beta_regularizer: args.none("beta_regularizer"),
    gamma_regularizer: args.none("gamma_regularizer"),
    beta_constraint: args.none("beta_constraint"),
    gamma_constraint: args.none("gamma_constraint"),
  }),
  // TF.js ReLU knows only max_value (null: unbounded); Keras's also has a slope and threshold.
  ReLU: (args) => ({ ...common(args), max_value: args.optional("max_value", null), negative_slope: 0, threshold: 0 }),
  Activation: (args) => ({ ...common(args), activation: args.oneOf("activation", ACTIVATIONS) }),
  ZeroPadding2D: (args) => ({ ...common(args), padding: args.value("padding"), data_format: args.oneOf("data_format", DATA_FORMAT) }),
  UpSampling2D: (args) => ({
    ...common(args),
    size: args.value("size"),
    data_format: args.oneOf("data_format", DATA_FORMAT),
    interpolation: args.oneOf("interpolation", ["nearest", "bilinear"]),
  }),
  Concatenate: (args) => ({ ...common(args), axis: args.value("axis") }),
  Add: (args) => common(args),
};

/** The layer classes `kerasModelConfig` can translate. */
export const EXPORTABLE_LAYER_CLASSES: readonly string[] = Object.keys(LAYER_CLASSES);

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Keras's `model_config` for a model whose TF.js topology is `topology`
 * (`model.toJSON(null, false)`, or `modelTopology` of a model.json).
 */
export function kerasModelConfig(topology: unknown): KerasModelConfig {
  const fail = (detail: string): never => {
    throw new ExportError({ kind: "unsupported-layer", layer: "(model)", className: "Model", detail });
  };
  if (!isObject(topology) || !isObject(topology.config)) return fail("topology has no config");
  const { config } = topology;
  if (topology.class_name !== "Model" && topology.class_name !== "Functional") {
    return fail(`is a ${JSON.stringify(topology.class_name)}; only functional models can be exported`);
  }
  if (!Array.isArray(config.layers)) return fail("topology lists no layers");
  const layers = config.layers.map((layer): KerasLayerConfig => {
    if (!isObject(layer) || typeof layer.class_name !== "string" || typeof layer.name !== "string" || !isObject(layer.config)) {
      return fail(`topology has an unreadable layer entry ${JSON.stringify(layer).slice(0, 80)}`);
    }
    const args = new LayerArgs(layer.name, layer.class_name, layer.config);
    const translate = LAYER_CLASSES[layer.class_name];
    if (translate === undefined) return args.fail(`has no Keras translation; exportable classes: ${EXPORTABLE_LAYER_CLASSES.join(", ")}`);
    return { class_name: layer.class_name, name: layer.name, config: translate(args), inbound_nodes: layer.inbound_nodes ?? [] };
  });
  return {
    class_name: "Functional",
    config: {
      name: typeof config.name === "string" ? config.name : "model",
      trainable: true,
      layers,
      input_layers: config.input_layers ?? fail("topology has no input_layers"),
      output_layers: config.output_layers ?? fail("topology has no output_layers"),
    },
    keras_version: KERAS_CONFIG_VERSION,
    backend: "tensorflow",
  };
}
