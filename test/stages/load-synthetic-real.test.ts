import { describe, expect, it } from "vitest";
import { runLoad, tempDir } from "./load-fixtures.js";

// With the real generator: every generated pair passes load's own checks (sizes
// match, masks not empty), which is what a synthetic experiment relies on.
describe("synthetic source with the real generator", () => {
  it("generates a small dataset that load accepts, with a sclera in every mask", async () => {
    const base = await tempDir("synthetic-real");
    const { manifest, outcome } = await runLoad(
      { source: { kind: "synthetic", count: 3, min_size: 64, max_size: 96 }, split: { train: 1, val: 0, test: 0 } },
      { baseDir: base, seed: 11 },
    );
    expect(manifest.items).toHaveLength(3);
    expect(outcome?.metrics).toMatchObject({ items: 3, skipped: 0 });
  });
});
