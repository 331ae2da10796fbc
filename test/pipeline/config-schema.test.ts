/** The published experiment schema: what an editor checks a file against. */
import { Ajv } from "ajv";
import { parse } from "yaml";
import { describe, expect, test } from "vitest";
import { buildExperimentSchema, renderExperimentSchema } from "../../pipeline/config/experiment-schema.js";
import { toyRegistry } from "./toy-config-registry.js";

const registry = toyRegistry;

function editorCheck(yaml: string): string[] {
  // Compiled the way a generic draft-07 validator would, without the loader's options.
  const validate = new Ajv({ allErrors: true, strictTypes: false }).compile(buildExperimentSchema(registry));
  return validate(parse(yaml)) ? [] : (validate.errors ?? []).filter((e) => e.keyword !== "if").map((e) => `${e.instancePath || "/"} ${e.message}`).sort();
}

const GOOD = `
experiment: quickstart
settings: {seed: 1, runtime: {backend: wasm, threads: 2}}
stages:
  make: {uses: produce, params: {label: x, count: 2}}
  eat: {uses: consume, inputs: {data: make.data}}
`;

describe("buildExperimentSchema", () => {
  test("is a draft-07 schema whose `uses` lists the registered stage types", () => {
    const schema = buildExperimentSchema(registry);
    expect(schema["$schema"]).toBe("http://json-schema.org/draft-07/schema#");
    const stage = (schema["properties"] as Record<string, { additionalProperties: { properties: { uses: { enum: string[] } } } }>)["stages"];
    expect(stage?.additionalProperties.properties.uses.enum).toEqual(["produce", "consume"]);
  });

  test("accepts a good file", () => {
    expect(editorCheck(GOOD)).toEqual([]);
  });

  test("rejects a bad param, an unknown input, an unknown key and an unknown stage type", () => {
    const bad = GOOD.replace("count: 2", "count: two").replace("data: make.data", "dta: make").replace("settings:", "setings:").replace(
      "{uses: produce,",
      "{uses: produce, parms: {},",
    );
    expect(editorCheck(`${bad}  odd: {uses: nothing}\n`)).toEqual([
      "/ must NOT have additional properties",
      "/stages/eat/inputs must NOT have additional properties",
      "/stages/eat/inputs must have required property 'data'",
      "/stages/make must NOT have additional properties",
      "/stages/make/params/count must be integer",
      "/stages/odd/uses must be equal to one of the allowed values",
    ]);
  });

  test("lets a file that extends another leave out `stages` and `uses`", () => {
    expect(editorCheck("experiment: child\nextends: base.yaml\nstages:\n  make: {params: {count: 9}}\n")).toEqual([]);
    expect(editorCheck("experiment: lonely\nstages:\n  make: {params: {label: x}}\n")).toEqual(["/stages/make must have required property 'uses'"]);
  });

  test("renders as stable JSON text ending in a newline", () => {
    const text = renderExperimentSchema(registry);
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(buildExperimentSchema(registry));
  });
});
