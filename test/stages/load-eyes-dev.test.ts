import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../require-in-ci.js";
import { decodeScleraMask } from "../../stages/data/masks.js";
import { runLoad } from "./load-fixtures.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const eyesDev = path.resolve(repoRoot, "../shared/data/eyes-dev");
const present = existsSync(path.join(eyesDev, "images"));

const skip = skipUnlessAvailable("../shared/data/eyes-dev", present ? null : `${eyesDev} is absent (the shared development data is not on this machine)`);

describe.skipIf(skip)(`load on eyes-dev (${eyesDev}; skipped when absent)`, () => {
  it("pairs all 990 images with class-index masks (sclera = 1) and splits them by image", async () => {
    const { manifest, report, outcome } = await runLoad(
      { source: { kind: "folders", images: "images", masks: "masks", mask: { kind: "class-index", sclera: 1 } } },
      { baseDir: eyesDev, seed: 42 },
    );
    expect(manifest.items).toHaveLength(990);
    expect(manifest.skipped).toEqual([]);
    expect(report.splitBy).toBe("image");
    expect(outcome?.metrics).toMatchObject({ items: 990, train: 792, val: 99, test: 99, subjects: 0, skipped: 0 });
    const webcam = manifest.items.filter((i) => i.id.startsWith("webcam_"));
    expect(webcam).toHaveLength(100);
    for (const item of manifest.items) expect([item.image.width, item.image.height]).toEqual([item.mask.width, item.mask.height]);
    const first = manifest.items[0];
    if (!first) throw new Error("no items");
    const { mask } = await decodeScleraMask(path.join(eyesDev, first.mask.path), first.maskEncoding);
    const sclera = mask.reduce((a, b) => a + b, 0);
    expect(sclera).toBeGreaterThan(0);
    expect(sclera).toBeLessThan(mask.length / 2);
  });
});
