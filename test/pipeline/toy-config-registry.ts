/** Two toy stage types for the experiment loader and schema tests (they never run). */
import { makeRegistry } from "../../pipeline/registry.js";
import { defineStageType } from "../../pipeline/stage.js";
import { RUNTIME_CHOICES } from "../../stages/runtime/backend-names.js";

const noRun = async (): Promise<void> => {};

export const toyRegistry = makeRegistry([
  defineStageType({
    name: "produce",
    version: 1,
    description: "makes toy data",
    paramsSchema: {
      type: "object",
      properties: {
        count: { type: "integer", minimum: 1, default: 3, description: "how many items" },
        label: { type: "string", description: "name of the items" },
      },
      required: ["label"],
    },
    inputs: {},
    outputs: { data: { description: "the items" } },
    run: noRun,
  }),
  defineStageType({
    name: "consume",
    version: 1,
    description: "reads toy data",
    paramsSchema: {
      type: "object",
      properties: { mode: { enum: ["fast", "slow"], default: "fast" } },
    },
    inputs: { data: { description: "items to read" }, extra: { description: "more items", optional: true } },
    outputs: { report: { description: "what was read" } },
    run: noRun,
  }),
], RUNTIME_CHOICES);
