// Toy stage types for engine tests and the engine benchmark, loaded through
// MU_PIPE_PLUGINS. Each appends its stage id to $TOY_CALLS so a test can see exactly
// which stages ran. Plain JS so the compiled CLI can import it in child processes.
import { promises as fs } from "node:fs";
import path from "node:path";

async function called(id) {
  if (process.env.TOY_CALLS) await fs.appendFile(process.env.TOY_CALLS, id + "\n");
}
const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const onAbort = () => { clearTimeout(t); reject(new Error("aborted")); };
  const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
  signal?.addEventListener("abort", onAbort, { once: true });
});

export const stageTypes = [
  {
    name: "emit",
    version: 1,
    description: "writes params.value to out",
    paramsSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        value: { type: "string", default: "x" },
        sleep_ms: { type: "integer", minimum: 0, default: 0 },
        watch: { type: "string", description: "a file or folder whose content joins the fingerprint" },
      },
    },
    inputs: {},
    externalInputs: (params, baseDir) => (params.watch ? [path.resolve(baseDir, params.watch)] : []),
    outputs: { out: { description: "a text file" } },
    async run(ctx) {
      await called(ctx.stageId);
      ctx.log("emitting " + ctx.params.value);
      const steps = Math.max(1, Math.ceil(ctx.params.sleep_ms / 50));
      for (let i = 0; i < steps && ctx.params.sleep_ms > 0; i++) {
        await fs.appendFile(path.join(ctx.outDir, "partial.txt"), "chunk " + i + "\n");
        ctx.progress({ current: i + 1, total: steps, unit: "steps" });
        await sleep(50, ctx.signal);
      }
      await fs.writeFile(path.join(ctx.outDir, "out"), ctx.params.value);
      return { metrics: { length: ctx.params.value.length }, environment: { engine: "toy", threads: 1 } };
    },
  },
  {
    name: "concat",
    version: 1,
    description: "joins its inputs and a suffix",
    paramsSchema: {
      type: "object",
      additionalProperties: false,
      properties: { suffix: { type: "string", default: "" }, fail: { type: "boolean", default: false } },
    },
    inputs: { a: { description: "first" }, b: { description: "second", optional: true } },
    outputs: { out: { description: "a text file" } },
    async run(ctx) {
      await called(ctx.stageId);
      if (ctx.params.fail) throw new Error("told to fail");
      let text = await fs.readFile(ctx.inputs.a, "utf8");
      if (ctx.inputs.b) text += await fs.readFile(ctx.inputs.b, "utf8");
      await fs.writeFile(path.join(ctx.outDir, "out"), text + ctx.params.suffix);
      return { metrics: { chars: text.length + ctx.params.suffix.length } };
    },
  },
];
