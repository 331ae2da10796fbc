/**
 * The JSON Schema (draft-07) of an experiment file.
 *
 * One schema serves two readers: the loader validates every file with it, and it is
 * published (`mu-pipe schema`) so editors running yaml-language-server complete and
 * check experiment files. Each stage's `params` and `inputs` are checked against its
 * stage type through `if uses == <name> then ...`, a form editors understand.
 *
 * A file that `extends:` another may leave out `stages` and a stage's `uses` (the parent
 * provides them), so those are required only in a file without `extends`. The loader
 * validates the merged document, which never has `extends`.
 */
import type { RuntimeChoices, StageRegistry } from "../registry.js";
import { executionSettingsSchema } from "./execution-settings.js";
import type { InputSpec, JsonSchema, StageType } from "../stage.js";

export const DEFAULT_SEED = 42;
export const DEFAULT_RUNS_DIR = "runs";

export const EXPERIMENT_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
export const STAGE_ID_PATTERN = "^[a-z][a-z0-9_-]*$";
/** `stage` or `stage.output`; the output is everything after the first dot. */
export const INPUT_REF_PATTERN = "^[a-z][a-z0-9_-]*(\\.[A-Za-z0-9_][A-Za-z0-9._-]*)?$";

/** The top-level key of an experiment's sweep (pipeline/sweep/): read apart, never part of a run's config. */
export const SWEEP_KEY = "sweep";

export const JSON_SCHEMA_DRAFT_07 = "http://json-schema.org/draft-07/schema#";

export function buildExperimentSchema(registry: StageRegistry): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DRAFT_07,
    title: "mu-pipe experiment",
    description: "A pipeline of stages, run by `mu-pipe run <file>`.",
    type: "object",
    additionalProperties: false,
    required: ["experiment"],
    properties: {
      experiment: {
        type: "string",
        pattern: EXPERIMENT_NAME_PATTERN,
        description: "Name of the experiment: letters, digits, `.`, `_` and `-`, starting with a letter or digit.",
      },
      description: { type: "string", description: "What the experiment is for." },
      extends: {
        type: "string",
        description: "Another experiment file (relative to this one) whose settings and stages this file changes.",
      },
      settings: settingsSchema(registry.runtime),
      [SWEEP_KEY]: sweepSchema(),
      stages: {
        type: "object",
        description: "The stages, by id, in the order they are listed.",
        propertyNames: { pattern: STAGE_ID_PATTERN },
        additionalProperties: stageSchema(registry),
      },
    },
    if: { required: ["extends"] },
    else: {
      required: ["stages"],
      properties: { stages: { additionalProperties: { required: ["uses"] } } },
    },
  };
}

/** The schema as the JSON text published in the repository (stable, ends with a newline). */
export function renderExperimentSchema(registry: StageRegistry): string {
  return `${JSON.stringify(buildExperimentSchema(registry), null, 2)}\n`;
}

/** For editors; the loader checks a sweep itself (pipeline/sweep/sweep-spec.ts), pointing at the spot. */
function sweepSchema(): JsonSchema {
  return {
    type: "object",
    description:
      "Many runs from this file: `<param path>: [values]` (as --set takes them) runs every combination; `include: [{path: value, ...}]` lists combinations; `cv: { param: <path>, folds: K }` runs K folds, setting `<path>.folds` and `<path>.fold`.",
    properties: {
      include: { type: "array", minItems: 1, items: { type: "object" }, description: "Explicit combinations, each a map of param path -> value." },
      cv: {
        type: "object",
        required: ["param", "folds"],
        additionalProperties: false,
        description: "k-fold cross-validation over a param object that takes `folds` and `fold` (e.g. stages.load.params.split).",
        properties: {
          param: { type: "string", description: "Path of the param object, e.g. stages.load.params.split." },
          folds: { type: "integer", minimum: 2, description: "How many folds; every fold runs once as the test split." },
        },
      },
    },
    additionalProperties: { type: "array", minItems: 1, description: "Values of this param path, one run each." },
  };
}

function settingsSchema(runtime: RuntimeChoices): JsonSchema {
  return {
    type: "object",
    additionalProperties: false,
    default: {},
    description: "How and where the experiment runs.",
    properties: {
      seed: { type: "integer", default: DEFAULT_SEED, description: "Seed for every random choice of the stages." },
      runtime: {
        type: "object",
        additionalProperties: false,
        default: {},
        description: "The TensorFlow.js runtime stages use.",
        properties: {
          backend: {
            type: "string",
            enum: [...runtime.backends],
            default: runtime.defaultBackend,
            description: runtime.backendDescription,
          },
          threads: { type: "integer", minimum: 1, description: runtime.threadsDescription },
        },
      },
      runs_dir: {
        type: "string",
        minLength: 1,
        default: DEFAULT_RUNS_DIR,
        description: "Folder for run records, relative to the current directory.",
      },
      store: {
        type: "string",
        minLength: 1,
        description: "Folder of the artifact store, relative to the current directory (default `<runs_dir>/.store`).",
      },
      ...executionSettingsSchema(),
    },
  };
}

function stageSchema(registry: StageRegistry): JsonSchema {
  const types = [...registry.values()];
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      uses:
        types.length > 0
          ? { type: "string", enum: types.map((type) => type.name), description: "The stage type to run." }
          : // An enum may not be empty: with no stage types, no `uses` is valid.
            { type: "string", not: {}, description: "The stage type to run (none are registered)." },
      description: { type: "string", description: "What this stage is for." },
      inputs: { type: "object", description: "Input name -> `stage` or `stage.output` it reads." },
      params: { type: "object", description: "Settings of the stage type." },
    },
    ...(types.length > 0
      ? {
          allOf: types.map((type) => ({
            if: { properties: { uses: { const: type.name } }, required: ["uses"] },
            then: { properties: { params: paramsSchema(type), inputs: inputsSchema(type) } },
          })),
        }
      : {}),
  };
}

/**
 * The type's params schema as published: unknown keys are errors unless the type says
 * otherwise, so a misspelt param never silently falls back to its default.
 */
function paramsSchema(type: StageType): JsonSchema {
  const { $schema: _ignored, ...schema } = type.paramsSchema;
  const strict = "properties" in schema && !("additionalProperties" in schema) ? { additionalProperties: false } : {};
  return { description: `Params of \`${type.name}\`: ${type.description}`, ...schema, ...strict };
}

function inputsSchema(type: StageType): JsonSchema {
  const entries = Object.entries(type.inputs) as [string, InputSpec][];
  return {
    type: "object",
    additionalProperties: false,
    description: `Inputs of \`${type.name}\`.`,
    properties: Object.fromEntries(
      entries.map(([name, spec]) => [name, { type: "string", pattern: INPUT_REF_PATTERN, description: spec.description }]),
    ),
    required: entries.filter(([, spec]) => spec.optional !== true).map(([name]) => name),
  };
}
