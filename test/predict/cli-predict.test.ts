/**
 * `mu-pipe predict`, run in-process through cli/main.ts on the cpu backend: a model
 * folder or a run, files and folders of images, and the bad inputs a user will hit.
 */
import { captureIO } from "../capture-io.js";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { PredictionsFile } from "../../stages/predict/submission.js";
import { writePng } from "../stages/resize-fixtures.js";
import { TempDirs, grey, rampImage, saveLeftNeighbourModel, saveRedChannelModel, saveTinyMuNet } from "./fixtures.js";

const temp = new TempDirs();
afterAll(() => temp.cleanup());
beforeAll(async () => {
  await tf.setBackend("cpu");
});


async function predictionsOf(dir: string): Promise<PredictionsFile> {
  return JSON.parse(await readFile(path.join(dir, "predictions.json"), "utf8")) as PredictionsFile;
}

describe("mu-pipe predict", () => {
  it("follows the TTA a model's threshold was chosen with, and --tta overrides it with a warning", async () => {
    const root = await temp.make();
    const model = await saveLeftNeighbourModel(path.join(root, "model"), 32, 0.5);
    const metadataFile = path.join(model, "mu-model.json");
    await writeFile(metadataFile, JSON.stringify({ ...JSON.parse(await readFile(metadataFile, "utf8")), tta: "flip" }));
    await writePng(path.join(root, "eye.png"), rampImage(40, 20));
    const predict = async (out: string, ...extra: string[]) => {
      const io = captureIO(root);
      const code = await main(["predict", "--model", "model", "eye.png", "--out", out, "--backend", "cpu", ...extra], io);
      return { code, err: io.stderr(), map: code === 0 ? (await grey(path.join(root, out, "Predictions", "eye.png"))).data : null };
    };
    const followed = await predict("followed");
    const flip = await predict("flip", "--tta", "flip");
    const none = await predict("none", "--tta", "none");
    expect([followed.code, flip.code, none.code]).toEqual([0, 0, 0]);
    expect(followed.err).toContain("; threshold 0.5 (the model's); flip TTA; backend cpu");
    expect(followed.map).toEqual(flip.map);
    expect(none.map).not.toEqual(followed.map);
    expect(none.err).toContain("warning: --tta none differs from the TTA the model's threshold was chosen with (flip)");
    const bad = await predict("bad", "--tta", "mirror");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--tta must be one of none, flip, not mirror");
  });

  it("predicts a folder and a file with a model folder, at original sizes", async () => {
    const root = await temp.make();
    await saveTinyMuNet(path.join(root, "model"));
    await writePng(path.join(root, "photos", "1_L_1.png"), rampImage(50, 30));
    await writePng(path.join(root, "photos", "2_R_3.png"), rampImage(24, 61));
    await writePng(path.join(root, "extra.png"), rampImage(10, 12));
    const io = captureIO(root);
    const code = await main(["predict", "--model", "model", "photos", "extra.png", "--out", "out", "--backend", "cpu", "--overlays", "--threshold", "0.4"], io);
    expect(io.stderr()).not.toContain("error");
    expect(code).toBe(0);
    const out = path.join(root, "out");
    for (const folder of ["Predictions", "Binarised"]) expect((await readdir(path.join(out, folder))).sort()).toEqual(["1_L_1.png", "2_R_3.png", "extra.png"]);
    expect((await readdir(path.join(out, "overlays"))).sort()).toEqual(["1_L_1.jpg", "2_R_3.jpg", "extra.jpg"]);
    // No ground truth, no GroundTruth/ folder: `mu-pipe score` then asks for --ground-truth.
    expect(existsSync(path.join(out, "GroundTruth"))).toBe(false);
    const probability = await grey(path.join(out, "Predictions", "2_R_3.png"));
    const binary = await grey(path.join(out, "Binarised", "2_R_3.png"));
    expect([probability.width, probability.height, binary.width, binary.height]).toEqual([24, 61, 24, 61]);
    expect(binary.data).toEqual(probability.data.map((k) => (k / 255 >= 0.4 ? 255 : 0)));
    const record = await predictionsOf(out);
    expect(record.threshold).toBe(0.4);
    expect(record.items.map((i) => i.id)).toEqual(["photos/1_L_1.png", "photos/2_R_3.png", "extra.png"]);
    expect(io.stdout()).toMatch(new RegExp(`^wrote 3 predictions to ${out} in [0-9.]+ s \\(Predictions/, Binarised/, overlays/\\)\\n$`));
    expect(io.stderr()).toContain("predict: 3/3 images");
  });

  it("takes a run's threshold-stage model, else its last finetune best", async () => {
    const root = await temp.make();
    const runsDir = path.join(root, "runs");
    const runDir = path.join(runsDir, "20261126T000000Z-demo");
    const store = path.join(runsDir, ".store", "artifacts");
    await saveRedChannelModel(path.join(store, "f2", "best"), 32);
    await saveRedChannelModel(path.join(store, "t", "model"), 32, 0.3);
    await mkdir(path.join(runDir, "artifacts"), { recursive: true });
    await symlink(path.join(store, "f2"), path.join(runDir, "artifacts", "finetune2"));
    const stage = (id: string, uses: string) => ({ id, uses, status: "succeeded", reason: "", fingerprintKey: null, artifactDigest: null, startedAt: null, finishedAt: null, durationMs: null, error: null });
    const runJson = (stages: unknown[]) =>
      JSON.stringify({ version: 1, id: "20261126T000000Z-demo", experiment: "demo", configFile: "x.yaml", status: "succeeded", startedAt: "2026-11-26T00:00:00Z", finishedAt: null, argv: [], pid: 1, hostname: "h", stages });
    await writeFile(path.join(runDir, "run.json"), runJson([stage("finetune1", "finetune"), stage("finetune2", "finetune")]));
    await writePng(path.join(root, "eye.png"), rampImage(40, 20));

    const first = captureIO(root);
    expect(await main(["predict", "--model", "demo", "eye.png", "--out", "a", "--backend", "cpu"], first)).toBe(0);
    expect((await predictionsOf(path.join(root, "a"))).threshold).toBe(0.5);
    expect(first.stderr()).toContain("has no swept threshold (no threshold stage ran); using 0.5");
    expect(first.stderr()).toContain("model: run 20261126T000000Z-demo (stage finetune2, best model)");

    await symlink(path.join(store, "t"), path.join(runDir, "artifacts", "sweep"));
    await writeFile(path.join(runDir, "run.json"), runJson([stage("finetune2", "finetune"), stage("sweep", "threshold"), stage("predict", "predict")]));
    const second = captureIO(root);
    expect(await main(["predict", "--model", runDir, "eye.png", "--out", "b", "--backend", "cpu"], second)).toBe(0);
    expect((await predictionsOf(path.join(root, "b"))).threshold).toBe(0.3);
    expect(second.stderr()).toContain("(stage sweep, the best model with its threshold); threshold 0.3 (the model's)");

    await writeFile(path.join(runDir, "run.json"), runJson([stage("load", "load")]));
    const third = captureIO(root);
    expect(await main(["predict", "--model", "demo", "eye.png", "--out", "c", "--backend", "cpu"], third)).toBe(2);
    expect(third.stderr()).toBe(
      "mu-pipe: demo = 20261126T000000Z-demo has no trained model (it has no finetune stage; stages: load (load, succeeded)); no demo run has a trained model; " +
        "train one with `mu-pipe run`, or pass --model <model folder>\n",
    );
  });

  it("takes latest to mean the newest run with a trained model, saying which run it passed over", async () => {
    const root = await temp.make();
    const runsDir = path.join(root, "runs");
    const store = path.join(runsDir, ".store", "artifacts");
    await saveRedChannelModel(path.join(store, "f2", "best"), 32);
    const stage = (id: string, status: string) => ({ id, uses: "finetune", status, reason: "", fingerprintKey: null, artifactDigest: null, startedAt: null, finishedAt: null, durationMs: null, error: null });
    const writeRun = async (id: string, status: string, stages: unknown[]): Promise<void> => {
      await mkdir(path.join(runsDir, id, "artifacts"), { recursive: true });
      const record = { version: 1, id, experiment: "demo", configFile: "x.yaml", status, startedAt: "2026-11-26T00:00:00Z", finishedAt: null, argv: [], pid: 1, hostname: "h", stages };
      await writeFile(path.join(runsDir, id, "run.json"), JSON.stringify(record));
    };
    await writeRun("20261126T000000Z-demo", "succeeded", [stage("finetune2", "succeeded")]);
    await symlink(path.join(store, "f2"), path.join(runsDir, "20261126T000000Z-demo", "artifacts", "finetune2"));
    await writeRun("20261127T000000Z-demo", "failed", [stage("finetune2", "failed")]);
    await symlink("20261127T000000Z-demo", path.join(runsDir, "latest"));
    await writePng(path.join(root, "eye.png"), rampImage(40, 20));

    const io = captureIO(root);
    expect(await main(["predict", "--model", "latest", "eye.png", "--out", "a", "--backend", "cpu"], io)).toBe(0);
    expect(io.stderr()).toContain(
      "note: latest = 20261127T000000Z-demo failed at finetune2; using 20261126T000000Z-demo, the newest run with a trained model\n",
    );
    expect(io.stderr()).toContain("model: run 20261126T000000Z-demo (stage finetune2, best model); threshold 0.5");
  });

  it("says clearly when the model folder is another tool's", async () => {
    const root = await temp.make();
    await saveTinyMuNet(path.join(root, "model"));
    await mkdir(path.join(root, "theirs"));
    await writeFile(path.join(root, "theirs", "model.json"), await readFile(path.join(root, "model", "model.json")));
    await writePng(path.join(root, "eye.png"), rampImage(8, 8));
    const io = captureIO(root);
    expect(await main(["predict", "--model", "theirs", "eye.png", "--out", "out", "--backend", "cpu"], io)).toBe(2);
    expect(io.stderr()).toBe(`mu-pipe: ${path.join(root, "theirs")}: a TF.js model but not a mu-pipe model folder: it has no mu-model.json (input size, input scaling, threshold)\n`);
  });

  it("says that a --model path does not exist", async () => {
    const root = await temp.make();
    await writePng(path.join(root, "eye.png"), rampImage(8, 8));
    const asPath = captureIO(root);
    expect(await main(["predict", "--model", "models/best", "eye.png", "--out", "out", "--backend", "cpu"], asPath)).toBe(2);
    expect(asPath.stderr()).toBe(`mu-pipe: ${path.join(root, "models", "best")}: does not exist (expected a mu-pipe model folder or a run folder)\n`);
    const asName = captureIO(root);
    expect(await main(["predict", "--model", "best", "eye.png", "--out", "out", "--backend", "cpu"], asName)).toBe(2);
    expect(asName.stderr()).toBe("mu-pipe: no run or model folder `best`\n");
    expect(existsSync(path.join(root, "out"))).toBe(false);
  });

  it("names an unreadable image and still writes the others", async () => {
    const root = await temp.make();
    await saveRedChannelModel(path.join(root, "model"), 32);
    await writePng(path.join(root, "photos", "good.png"), rampImage(20, 10));
    await writeFile(path.join(root, "photos", "bad.jpg"), Buffer.from("this is not a jpeg"));
    const io = captureIO(root);
    expect(await main(["predict", "--model", "model", "photos", "--out", "out", "--backend", "cpu"], io)).toBe(1);
    const bad = path.join(root, "photos", "bad.jpg");
    expect(io.stderr()).toContain(`mu-pipe: ${bad}: cannot read image: not a readable image: unrecognised format or damaged header\n  the other 1 image(s) were written to ${path.join(root, "out")}`);
    expect(await readdir(path.join(root, "out", "Predictions"))).toEqual(["good.png"]);
  });

  it("says where it looked when there are no images, and names a missing path", async () => {
    const root = await temp.make();
    await saveRedChannelModel(path.join(root, "model"), 32);
    await mkdir(path.join(root, "empty"));
    await writeFile(path.join(root, "empty", "readme.txt"), "no images here");
    const io = captureIO(root);
    expect(await main(["predict", "--model", "model", "empty", "--out", "out", "--backend", "cpu"], io)).toBe(2);
    expect(io.stderr()).toBe(`mu-pipe: no images found in ${path.join(root, "empty")} (looked for .jpg .jpeg .png .bmp .tif .tiff .webp files)\n`);

    const missing = captureIO(root);
    expect(await main(["predict", "--model", "model", "nowhere", "--out", "out", "--backend", "cpu"], missing)).toBe(2);
    expect(missing.stderr()).toBe(`mu-pipe: no image or folder \`${path.join(root, "nowhere")}\`\n`);
  });

  it("checks its options", async () => {
    const root = await temp.make();
    const io = captureIO(root);
    expect(await main(["predict", "eye.png", "--out", "out"], io)).toBe(2);
    expect(io.stderr()).toContain("mu-pipe: --model is required (a run or a model folder)");
    const bad = captureIO(root);
    expect(await main(["predict", "--model", "m", "eye.png", "--out", "out", "--threshold", "1.5"], bad)).toBe(2);
    expect(bad.stderr()).toContain("mu-pipe: --threshold must be a number in [0, 1], not 1.5");
  });
});
