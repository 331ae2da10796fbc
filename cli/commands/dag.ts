import type { StageGraph } from "../../pipeline/graph.js";
import { formatOption, parseCommandArgs, requirePositionals } from "../args.js";
import type { Command } from "../command.js";
import { openExperiment } from "../experiment-session.js";

const usage = `usage: mu-pipe dag <experiment.yaml> [--format text|mermaid] [--set key=value]...`;

const options = { format: { type: "string", default: "text" }, set: { type: "string", multiple: true } } as const;

export function dagAsText(graph: StageGraph): string {
  return graph.stages
    .map((stage) => {
      const from = stage.inputs.map((i) => `${i.stage}.${i.output} -> ${i.name}`);
      return `${stage.id} (${stage.type.name})${from.length > 0 ? `\n${from.map((f) => `  <- ${f}`).join("\n")}` : ""}`;
    })
    .join("\n");
}

export function dagAsMermaid(graph: StageGraph): string {
  const lines = ["flowchart TD"];
  for (const stage of graph.stages) lines.push(`  ${stage.id}["${stage.id}<br/><small>${stage.type.name}</small>"]`);
  for (const stage of graph.stages) {
    for (const input of stage.inputs) lines.push(`  ${input.stage} -->|${input.output}| ${stage.id}`);
  }
  return lines.join("\n");
}

export const dagCommand: Command = {
  name: "dag",
  summary: "print the stage graph",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, options, usage);
    const [file] = requirePositionals(positionals, 1, "the experiment file", usage);
    const format = formatOption(values.format, ["text", "mermaid"], usage);
    const { graph } = await openExperiment(file ?? "", values.set ?? [], io);
    io.out(format === "mermaid" ? dagAsMermaid(graph) : dagAsText(graph));
    return 0;
  },
};
