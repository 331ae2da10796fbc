// Toy stage types for engine tests and the engine benchmark, loaded through
// MU_PIPE_PLUGINS. Each appends its stage id to $TOY_CALLS so a test can see exactly
// which stages ran. Plain JS so the compiled CLI can import it in child processes.
import { promises as fs } from "node:fs";
import path from "node:path";

async function called(id) {
  if (process.env.TOY_CALLS) await fs.appendFile(process.env.TOY_CALLS, id + "\n");
}
const sleep = (ms, signal) => new Promise((resolve, reject) => {
  // A signal aborted before we listen never fires again: check it first.
  if (signal?.aborted) return reject(new Error("aborted"));
  const onAbort = () => { clearTimeout(t); reject(new Error("aborted")); };
  const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
  signal?.addEventListener("abort", onAbort, { once: true });
});

/** Holds the thread for `ms`, as a TensorFlow batch does: no signal handler runs meanwhile. */
function holdThread(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy, on purpose
  }
}
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** slow-train's checkpoint: `checkpoint.json` ({ epoch }), written under a temp name and renamed. */
async function readCheckpoint(dir) {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, "checkpoint.json"), "utf8")).epoch;
  } catch {
    return 0;
  }
}
async function writeCheckpoint(dir, epoch, ms) {
  const tmp = path.join(dir, "checkpoint.json.tmp");
  await fs.writeFile(tmp, "");
  await sleep(ms);
  await fs.writeFile(tmp, JSON.stringify({ epoch }));
  await fs.rename(tmp, path.join(dir, "checkpoint.json"));
}

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
      if (ctx.params.fail) throw new Error("concat: told to fail"); // the engine drops the type name: it names the stage
      let text = await fs.readFile(ctx.inputs.a, "utf8");
      if (ctx.inputs.b) text += await fs.readFile(ctx.inputs.b, "utf8");
      await fs.writeFile(path.join(ctx.outDir, "out"), text + ctx.params.suffix);
      return { metrics: { chars: text.length + ctx.params.suffix.length } };
    },
  },
  {
    // A fine-tune stand-in: epochs of steps, a checkpoint in scratchDir after each epoch,
    // resuming from it. `hold_thread` steps block the event loop like TensorFlow batches;
    // `ignore_signal` never looks at ctx.signal (a stage that cannot stop promptly).
    name: "slow-train",
    version: 1,
    description: "epochs of slow steps with a checkpoint per epoch",
    paramsSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        epochs: { type: "integer", minimum: 1, default: 2 },
        steps: { type: "integer", minimum: 1, default: 10 },
        step_ms: { type: "integer", minimum: 0, default: 100 },
        hold_thread: { type: "boolean", default: false },
        ignore_signal: { type: "boolean", default: false },
        checkpoint_ms: { type: "integer", minimum: 0, default: 0 },
      },
    },
    inputs: {},
    outputs: { out: { description: "the number of epochs trained" } },
    async run(ctx) {
      await called(ctx.stageId);
      const { epochs, steps, step_ms: stepMs } = ctx.params;
      const done = await readCheckpoint(ctx.scratchDir);
      if (done > 0) ctx.log("resuming after epoch " + done);
      for (let epoch = done + 1; epoch <= epochs; epoch++) {
        for (let step = 1; step <= steps; step++) {
          if (!ctx.params.ignore_signal) {
            await nextTurn();
            ctx.signal.throwIfAborted();
          }
          if (ctx.params.hold_thread) holdThread(stepMs);
          else await sleep(stepMs);
          ctx.progress({ message: "epoch " + epoch + "/" + epochs + " step " + step + "/" + steps, current: (epoch - 1) * steps + step, total: epochs * steps });
        }
        await ctx.protect(writeCheckpoint(ctx.scratchDir, epoch, ctx.params.checkpoint_ms));
        ctx.log("checkpoint after epoch " + epoch);
      }
      await fs.writeFile(path.join(ctx.outDir, "out"), String(epochs));
      return { metrics: { epochs } };
    },
    async resumePoint(scratchDir, params) {
      const done = await readCheckpoint(scratchDir);
      return done > 0 ? "epoch " + done + " of " + params.epochs : null;
    },
  },
  {
    // For --jobs: says which process ran it, when, and with how many threads.
    name: "whoami",
    version: 1,
    description: "sleeps, then writes its pid, start and end times and threads",
    usesBackend: true,
    paramsSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        sleep_ms: { type: "integer", minimum: 0, default: 0 },
        tag: { type: "string", default: "" },
        fail_tag: { type: "string", description: "fail at once when tag is this (one combination of a sweep fails)" },
      },
    },
    inputs: { after: { description: "any output, to order it", optional: true } },
    outputs: { out: { description: "JSON: pid, start, end, threads" } },
    async run(ctx) {
      await called(ctx.stageId);
      if (ctx.params.fail_tag !== undefined && ctx.params.tag === ctx.params.fail_tag) throw new Error(`whoami: told to fail for tag ${ctx.params.tag}`);
      const start = Date.now();
      await sleep(ctx.params.sleep_ms, ctx.signal);
      const facts = { pid: process.pid, start, end: Date.now(), threads: ctx.runtime.threads ?? null };
      await fs.writeFile(path.join(ctx.outDir, "out"), JSON.stringify(facts));
      return { metrics: { pid: facts.pid, start, end: facts.end, threads: facts.threads ?? 0 } };
    },
  },
  {
    // For cluster tests: holds `mb` megabytes (touched, so they count) for `hold_ms`.
    name: "hog",
    version: 1,
    description: "allocates memory and holds it",
    paramsSchema: {
      type: "object",
      additionalProperties: false,
      properties: { mb: { type: "integer", minimum: 1, default: 100 }, hold_ms: { type: "integer", minimum: 0, default: 2000 } },
    },
    inputs: {},
    outputs: { out: { description: "how much it held" } },
    async run(ctx) {
      await called(ctx.stageId);
      const blocks = [];
      for (let i = 0; i < ctx.params.mb; i++) blocks.push(Buffer.alloc(1024 * 1024, i % 251));
      await sleep(ctx.params.hold_ms, ctx.signal);
      await fs.writeFile(path.join(ctx.outDir, "out"), String(blocks.length));
      return { metrics: { mb: blocks.length } };
    },
  },
  {
    // For preflight checks: refuses an empty input, before it runs, from the facts of
    // the stage feeding it (emit's metrics say its length).
    name: "needs-text",
    version: 1,
    description: "copies a non-empty input",
    paramsSchema: { type: "object", additionalProperties: false, properties: {} },
    inputs: { a: { description: "text" } },
    outputs: { out: { description: "the same text" } },
    preflight(ctx) {
      return ctx.inputs.a?.length === 0 ? [{ message: "its input is empty", hints: ["give stage root a value"] }] : [];
    },
    async run(ctx) {
      await called(ctx.stageId);
      const text = await fs.readFile(ctx.inputs.a, "utf8");
      if (text.length === 0) throw new Error("needs-text: empty input");
      await fs.writeFile(path.join(ctx.outDir, "out"), text);
      return { metrics: { chars: text.length } };
    },
  },
];
