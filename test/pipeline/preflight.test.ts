/**
 * Preflight checks on a real pipeline: configs/ssbc2020.yaml on a MASD folder of two
 * subjects, split by subject into train/val/test. Both subjects land in train, so the
 * run must stop right after `load`, before flip, resize or any fine-tune starts, naming
 * the empty splits, why they are empty and what to change; `status` then shows the same
 * problems from the cached load result.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { RunRecord } from "../../pipeline/formats.js";
import { captureIO } from "../capture-io.js";
import { writeBinaryMask, writeImage } from "../stages/load-fixtures.js";
import { repoRoot } from "./engine-rig.js";

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "mu-pipe-preflight-"));
  for (const subject of ["1", "2"]) {
    for (let n = 1; n <= 3; n++) {
      await writeImage(path.join(dir, "data/MASD", subject, `${subject}_${n}.jpg`), { salt: Number(subject) * 10 + n });
      await writeBinaryMask(path.join(dir, "data/MASD_GT", subject, `${subject}_${n}.png`));
    }
  }
  await fs.mkdir(path.join(dir, "configs"));
  await fs.copyFile(path.join(repoRoot, "configs/ssbc2020.yaml"), path.join(dir, "configs/ssbc2020.yaml"));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const SPLIT_LINE = ["  37 |       split: { train: 0.8, val: 0.1, test: 0.1, by: subject }", "     |              ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"];

const PROBLEMS = [
  "configs/ssbc2020.yaml:37:14 - error: stages.load.params.split: the val split is empty: 2 subjects cannot fill 3 splits: split.by: subject puts all of a subject's images in one split (load gave train 6, val 0, test 0)",
  "",
  ...SPLIT_LINE,
  "  hint: stages finetune1, finetune2 would fail on this",
  "  hint: early stopping, reduce-LR and the best checkpoint are judged on the val loss, and best_val_dice is measured on it",
  "  hint: to fix: add subjects, or set split.by: image (one person's photos may then be in two splits)",
  "",
  "configs/ssbc2020.yaml:37:14 - error: stages.load.params.split: the test split is empty: 2 subjects cannot fill 3 splits: split.by: subject puts all of a subject's images in one split (load gave train 6, val 0, test 0)",
  "",
  ...SPLIT_LINE,
  "  hint: stage predict would fail on this",
  "  hint: predict writes the submission of the test split's original images",
  "  hint: to fix: add subjects, or set split.by: image (one person's photos may then be in two splits)",
  "  hint: or predict another split: stages.predict.params.split",
  "",
];

describe("a run that cannot succeed stops after load", () => {
  it("fails before flip, resize and the fine-tune stages start, with every problem located", async () => {
    const io = captureIO(dir);
    const code = await main(["run", "configs/ssbc2020.yaml"], io);
    expect(code).toBe(2);
    expect(io.stderr()).toBe(
      [...PROBLEMS, "2 problems found before stage flip started; it and the stages after it did not run. Finished stages are cached: fix and rerun.", ""].join("\n"),
    );
    const record = JSON.parse(await fs.readFile(path.join(dir, "runs/latest/run.json"), "utf8")) as RunRecord;
    expect(record.status).toBe("failed");
    expect(Object.fromEntries(record.stages.map((s) => [s.id, s.status]))).toEqual({
      load: "succeeded",
      flip: "skipped",
      resize: "skipped",
      finetune1: "failed",
      finetune2: "failed",
      threshold: "skipped",
      predict: "failed",
      evaluate: "skipped",
    });
    expect(record.stages.find((s) => s.id === "finetune1")?.startedAt).toBeNull();
    expect(record.stages.find((s) => s.id === "predict")?.error).toMatch(/^stages\.load\.params\.split: the test split is empty: 2 subjects cannot fill 3 splits/);
  });

  it("status shows the same problems from the cached load result", async () => {
    const io = captureIO(dir);
    expect(await main(["status", "configs/ssbc2020.yaml"], io)).toBe(0);
    expect(io.stdout()).toContain(["", ...PROBLEMS, "a run would stop early: 2 problems above (from the cached results)", ""].join("\n"));
  });

  it("with a split that works, the checks pass and nothing is reported", async () => {
    const io = captureIO(dir);
    const code = await main(["status", "configs/ssbc2020.yaml", "--set", "stages.load.params.split.by=image"], io);
    expect(code).toBe(0);
    expect(io.stdout()).not.toContain("error:");
  });
});
