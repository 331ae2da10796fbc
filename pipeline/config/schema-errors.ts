/**
 * Validation against the experiment schema, with ajv's errors phrased in plain words
 * and pointed back at the source tree ("expected number, found string \"fast\"" under
 * the value, "unknown key `parms`" under the key).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Diagnostic, SourceSpan } from "../failure.js";
import type { StageRegistry } from "../registry.js";
import { closestMatch, didYouMean } from "./did-you-mean.js";
import { buildExperimentSchema, EXPERIMENT_NAME_PATTERN, INPUT_REF_PATTERN, STAGE_ID_PATTERN } from "./experiment-schema.js";
import { findNode, keyPathText, spanOfKey, spanOfValue, type KeyPath, type TreeNode } from "./source-tree.js";

const validators = new WeakMap<StageRegistry, ValidateFunction>();

function validatorFor(registry: StageRegistry): ValidateFunction {
  let validate = validators.get(registry);
  if (!validate) {
    // strictTypes off: the `if/then` refinements constrain properties without repeating `type`.
    const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strictTypes: false, allowUnionTypes: true });
    validate = ajv.compile(buildExperimentSchema(registry));
    validators.set(registry, validate);
  }
  return validate;
}

/**
 * Validates `data` (the plain form of `tree`), filling schema defaults into it, and
 * returns one diagnostic per problem.
 */
export function validateAgainstSchema(data: unknown, tree: TreeNode, registry: StageRegistry): Diagnostic[] {
  const validate = validatorFor(registry);
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const typeErrorPaths = new Set(errors.filter((e) => e.keyword === "type").map((e) => e.instancePath));
  const misspelt = misspeltKeys(errors);
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const error of errors) {
    // A value of the wrong type also fails its enum, pattern, ...: say only the type.
    if (error.keyword !== "type" && typeErrorPaths.has(error.instancePath)) continue;
    if (followsFromMisspelling(error, misspelt, tree)) continue;
    const diagnostic = describeError(error, tree, registry);
    if (!diagnostic) continue;
    const key = `${diagnostic.keyPath}\0${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

/** Pointers to the keys that unknown keys are likely misspellings of. */
function misspeltKeys(errors: readonly ErrorObject[]): Set<string> {
  const keys = new Set<string>();
  for (const error of errors) {
    if (error.keyword !== "additionalProperties") continue;
    const known = Object.keys((error.parentSchema?.["properties"] as object | undefined) ?? {});
    const match = closestMatch(String(error.params["additionalProperty"]), known);
    if (match !== null) keys.add(`${error.instancePath}/${match}`);
  }
  return keys;
}

/**
 * `parms:` is an unknown key, and so `params` is missing, or is the empty default whose
 * required keys are missing: the did-you-mean on `parms` says it all.
 */
function followsFromMisspelling(error: ErrorObject, misspelt: ReadonlySet<string>, tree: TreeNode): boolean {
  if (error.keyword === "required" && misspelt.has(`${error.instancePath}/${String(error.params["missingProperty"])}`)) return true;
  for (const pointer of misspelt) {
    const inside = error.instancePath === pointer || error.instancePath.startsWith(`${pointer}/`);
    if (inside && !findNode(tree, decodePointer(pointer)).exact) return true;
  }
  return false;
}

function describeError(error: ErrorObject, tree: TreeNode, registry: StageRegistry): Diagnostic | null {
  const path = decodePointer(error.instancePath);
  const at = (keyPath: KeyPath, span: SourceSpan, message: string, hints: string[] = []): Diagnostic => ({
    span,
    file: span.file,
    keyPath: keyPathText(keyPath),
    message,
    ...(hints.length > 0 ? { hints } : {}),
  });
  const valueSpan = (): SourceSpan => spanOfValue(findNode(tree, path));
  const params = error.params as Record<string, unknown>;
  const found = describeValue(error.data);

  switch (error.keyword) {
    case "if":
      // "must match then/else schema": the errors inside the branch say what is wrong.
      return null;
    case "propertyNames": {
      const name = String(params["propertyName"]);
      const keyPath = [...path, name];
      const span = spanOfKey(findNode(tree, keyPath));
      if (isStagesMap(path)) {
        return at(keyPath, span, `invalid stage id \`${name}\``, [
          "a stage id starts with a lowercase letter and has only a-z, 0-9, `_` and `-`",
        ]);
      }
      return at(keyPath, span, `invalid key \`${name}\``);
    }
    case "pattern":
      if (error.propertyName !== undefined) return null; // reported as propertyNames
      return at(path, valueSpan(), patternMessage(String(params["pattern"]), found));
    case "additionalProperties": {
      const name = String(params["additionalProperty"]);
      const keyPath = [...path, name];
      const span = spanOfKey(findNode(tree, keyPath));
      const known = Object.keys((error.parentSchema?.["properties"] as object | undefined) ?? {});
      const stageType = stageTypeOf(path, tree, registry, "inputs");
      if (stageType !== null) {
        const hints = didYouMean(name, known);
        if (hints.length === 0) {
          hints.push(known.length === 0 ? `\`${stageType}\` takes no inputs` : `\`${stageType}\` takes inputs: ${known.join(", ")}`);
        }
        return at(keyPath, span, `unknown input \`${name}\` for stage type \`${stageType}\``, hints);
      }
      const hints = didYouMean(name, known);
      if (hints.length === 0 && known.length > 0) hints.push(`known keys: ${known.join(", ")}`);
      return at(keyPath, span, `unknown key \`${name}\``, hints);
    }
    case "required": {
      const name = String(params["missingProperty"]);
      const span = spanOfKey(findNode(tree, path));
      const properties = error.parentSchema?.["properties"] as Record<string, { description?: unknown }> | undefined;
      const description = properties?.[name]?.description;
      const hints = typeof description === "string" ? [`\`${name}\`: ${description}`] : [];
      if (name === "uses" && path.length === 2 && path[0] === "stages") hints.push(`known stage types: ${[...registry.keys()].join(", ")}`);
      const what = stageTypeOf(path, tree, registry, "inputs") !== null ? "input" : "key";
      return at(path, span, `missing required ${what} \`${name}\``, hints);
    }
    case "type":
      if (path.length === 0) {
        const what = error.data === null ? "the document is empty" : `found ${describeTyped(error.data)}`;
        return at(path, valueSpan(), `expected a map with \`experiment\`, \`stages\` and so on; ${what}`);
      }
      return at(path, valueSpan(), `expected ${typeWords(params["type"])}, found ${describeTyped(error.data)}`);
    case "enum": {
      const allowed = (params["allowedValues"] as unknown[] | undefined) ?? [];
      const words = allowed.map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
      const hints = typeof error.data === "string" ? didYouMean(error.data, words) : [];
      if (isUsesPath(path)) {
        if (hints.length === 0) hints.push(`known stage types: ${words.join(", ")}`);
        return at(path, valueSpan(), `unknown stage type \`${String(error.data)}\``, hints);
      }
      return at(path, valueSpan(), `expected one of ${words.join(", ")}; found ${found}`, hints);
    }
    case "not":
      if (isUsesPath(path)) return at(path, valueSpan(), `unknown stage type \`${String(error.data)}\``, ["no stage types are registered"]);
      return at(path, valueSpan(), error.message ?? "is not allowed here");
    case "const":
      return at(path, valueSpan(), `expected ${describeValue(params["allowedValue"])}, found ${found}`);
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return at(path, valueSpan(), `must be ${String(params["comparison"])} ${String(params["limit"])}, found ${found}`);
    case "multipleOf":
      return at(path, valueSpan(), `must be a multiple of ${String(params["multipleOf"])}, found ${found}`);
    case "minLength":
      if (params["limit"] === 1) return at(path, valueSpan(), "must not be empty");
      return at(path, valueSpan(), `must be at least ${String(params["limit"])} characters long, found ${found}`);
    case "maxLength":
      return at(path, valueSpan(), `must be at most ${String(params["limit"])} characters long, found ${found}`);
    case "minItems":
    case "maxItems":
    case "minProperties":
    case "maxProperties": {
      const least = error.keyword.startsWith("min") ? "at least" : "at most";
      const count = Array.isArray(error.data) ? error.data.length : Object.keys(error.data as object).length;
      return at(path, valueSpan(), `expected ${least} ${String(params["limit"])} entries, found ${count}`);
    }
    case "uniqueItems":
      return at(path, valueSpan(), `items ${String(params["j"])} and ${String(params["i"])} are the same; each must be different`);
    case "format":
      return at(path, valueSpan(), `expected a ${String(params["format"])}, found ${found}`);
    default:
      return at(path, valueSpan(), error.message ?? `fails the \`${error.keyword}\` check`);
  }
}

function patternMessage(pattern: string, found: string): string {
  switch (pattern) {
    case EXPERIMENT_NAME_PATTERN:
      return `expected a name of letters, digits, \`.\`, \`_\` and \`-\` starting with a letter or digit, found ${found}`;
    case INPUT_REF_PATTERN:
      return `expected a reference \`stage\` or \`stage.output\`, found ${found}`;
    case STAGE_ID_PATTERN:
      return `expected a stage id (a lowercase letter, then a-z, 0-9, \`_\` or \`-\`), found ${found}`;
    default:
      return `must match the pattern ${pattern}, found ${found}`;
  }
}

function isUsesPath(path: KeyPath): boolean {
  return path.length === 3 && path[0] === "stages" && path[2] === "uses";
}

function isStagesMap(path: KeyPath): boolean {
  return path.length === 1 && path[0] === "stages";
}

/** For `stages.<id>.<section>`, the stage's `uses` (when it is a string), else null. */
function stageTypeOf(path: KeyPath, tree: TreeNode, registry: StageRegistry, section: string): string | null {
  if (path.length !== 3 || path[0] !== "stages" || path[2] !== section) return null;
  const uses = findNode(tree, ["stages", path[1] ?? "", "uses"]);
  return uses.exact && uses.node.kind === "scalar" && typeof uses.node.value === "string" && registry.has(uses.node.value)
    ? uses.node.value
    : null;
}

function decodePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const TYPE_WORDS: Record<string, string> = { object: "map", array: "list" };

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : String(type).split(",");
  return types.map((t) => TYPE_WORDS[t] ?? t).join(" or ");
}

/** A value as the "found" part of a message: `"fast"`, `0`, `null`, `a map`. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a map";
  return String(value);
}

/** A value with its type, for type errors: `string "fast"`, `number 2.5`, `list`. */
function describeTyped(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "map";
  return `${typeof value} ${describeValue(value)}`;
}
