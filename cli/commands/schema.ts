import { promises as fs } from "node:fs";
import path from "node:path";
import { renderExperimentSchema } from "../../pipeline/config/experiment-schema.js";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";
import { loadRegistry } from "../registry.js";

const usage = `usage: mu-pipe schema [--out schema/experiment.schema.json]

Prints (or writes) the JSON Schema of experiment files, built from the registered
stage types, for editors: put \`# yaml-language-server: $schema=<path>\` at the top of
an experiment file.`;

const options = { out: { type: "string" } } as const;

export const schemaCommand: Command = {
  name: "schema",
  summary: "the experiment JSON Schema",
  usage,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, options, usage);
    const text = renderExperimentSchema(await loadRegistry(io.env, io.cwd));
    if (values.out) {
      const file = path.resolve(io.cwd, values.out);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, text);
      io.out(`wrote ${path.relative(io.cwd, file)}`);
    } else {
      io.out(text);
    }
    return 0;
  },
};
