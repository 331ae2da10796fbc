/**
 * A resize size MU-Net cannot take (not a multiple of 32) stops a run before anything
 * runs, pointing at the resize stage's `params.size`; sizes that are multiples of 32
 * (64 here; 256, 288 and 320 alike) pass.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { RunRecord } from "../../pipeline/formats.js";
import { tensorSizeFacts } from "../../stages/data/dataset-facts.js";
import { finetunePreflight, inputSizeMessage } from "../../stages/train/finetune-preflight.js";
import type { FinetuneParams } from "../../stages/train/finetune-params.js";
import { captureIO } from "../capture-io.js";

let dir: string;

/** A tiny synthetic experiment whose resize writes `size` x `size` tensors. */
function experiment(size: number): string {
  return [
    "experiment: odd-size",
    "stages:",
    "  load:",
    "    uses: load",
    "    params:",
    "      source: { kind: synthetic, count: 6, views: [closeup], min_size: 40, max_size: 60 }",
    "      split: { train: 0.5, val: 0.25, test: 0.25 }",
    "  resize:",
    "    uses: resize",
    "    inputs: { dataset: load.dataset }",
    `    params: { size: ${size} }`,
    "  finetune:",
    "    uses: finetune",
    "    inputs: { tensors: resize.tensors }",
    "    params: { encoder: { weights: none }, epochs: 1, batch_size: 1 }",
    "",
  ].join("\n");
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "mu-pipe-size-"));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("the MU-Net input size rule", () => {
  it("names the nearest sizes that work", () => {
    expect(inputSizeMessage(48)).toBe("MU-Net takes square images whose side is a multiple of 32, and the tensors are 48x48; use 32 or 64");
    expect(inputSizeMessage(200)).toMatch(/the tensors are 200x200; use 192 or 224$/);
    for (const size of [32, 64, 224, 256, 288, 320]) expect(inputSizeMessage(size)).toBeNull();
  });

  it("is checked by finetune's preflight on the resize stage's facts, pointing at its params.size", () => {
    const check = (size: number) => finetunePreflight({ stageId: "finetune1", params: { batch_size: 8 } as FinetuneParams, inputs: { tensors: tensorSizeFacts("resize", size) } });
    expect(check(48)).toEqual([{ keyPath: "stages.resize.params.size", message: inputSizeMessage(48), hints: ["fine-tuning builds the model at the tensors' size"] }]);
    expect(check(64)).toEqual([]);
  });

  it("stops a run before its first stage, with the spot in the experiment file", async () => {
    await fs.writeFile(path.join(dir, "odd.yaml"), experiment(48));
    const io = captureIO(dir);
    expect(await main(["run", "odd.yaml"], io)).toBe(2);
    expect(io.stderr()).toBe(
      [
        `odd.yaml:11:21 - error: stages.resize.params.size: ${inputSizeMessage(48)}`,
        "",
        "  11 |     params: { size: 48 }",
        "     |                     ~~",
        "  hint: stage finetune would fail on this",
        "  hint: fine-tuning builds the model at the tensors' size",
        "",
        "1 problem found before stage load started; it and the stages after it did not run. Finished stages are cached: fix and rerun.",
        "",
      ].join("\n"),
    );
    const record = JSON.parse(await fs.readFile(path.join(dir, "runs/latest/run.json"), "utf8")) as RunRecord;
    expect(Object.fromEntries(record.stages.map((s) => [s.id, s.status]))).toEqual({ load: "skipped", resize: "skipped", finetune: "failed" });

    await fs.writeFile(path.join(dir, "ok.yaml"), experiment(64));
    const dry = captureIO(dir);
    expect(await main(["run", "ok.yaml", "--dry-run"], dry)).toBe(0);
    expect(dry.stderr() + dry.stdout()).not.toContain("params.size");
  });
});
