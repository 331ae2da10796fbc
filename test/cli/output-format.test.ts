import { describe, expect, it } from "vitest";

import { formatDuration, formatEta, formatNumber, formatProgress, shortDigest } from "../../cli/output/format.js";
import { judgeChange } from "../../cli/output/metric-direction.js";
import { renderMarkdownTable, renderTable } from "../../cli/output/table.js";

describe("formatDuration", () => {
  it.each([
    [0, "0ms"],
    [850, "850ms"],
    [3_200, "3.2s"],
    [59_940, "59.9s"],
    [59_960, "1m00s"],
    [130_000, "2m10s"],
    [3_599_600, "1h00m"],
    [3_720_000, "1h02m"],
    [-5, "0ms"],
  ])("%d ms reads %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("formatEta and formatProgress", () => {
  it("rounds ETAs under a minute to whole seconds", () => {
    expect(formatEta(41.6)).toBe("42s");
    expect(formatEta(130)).toBe("2m10s");
  });

  it("joins message, fraction and ETA", () => {
    expect(formatProgress({ message: "epoch 3/30 batch 120/223 loss 0.41", current: 3, total: 30 }, 130)).toBe("epoch 3/30 batch 120/223 loss 0.41 · 10% · ETA 2m10s");
    expect(formatProgress({ current: 120, total: 223, unit: "images" }, null)).toBe("120/223 images (53%)");
    expect(formatProgress({ message: "warming up" }, null)).toBe("warming up");
  });
});

describe("formatNumber and shortDigest", () => {
  it("keeps integers and trims other numbers to four significant digits", () => {
    expect(formatNumber(160)).toBe("160");
    expect(formatNumber(52.1234)).toBe("52.12");
    expect(formatNumber(0.00003)).toBe("0.00003");
    expect(formatNumber(0.87349)).toBe("0.8735");
    expect(formatNumber(12345678.9)).toBe("1.235e+7");
  });

  it("shortens digests like git", () => {
    expect(shortDigest("sha256:0123456789abcdef0123")).toBe("0123456789ab");
    expect(shortDigest(null)).toBe("-");
  });
});

describe("tables", () => {
  const columns = [{ header: "NAME" }, { header: "N", align: "right" as const }];

  it("aligns columns without trailing spaces", () => {
    expect(renderTable(columns, [["a", "1"], ["longer", "100"]])).toBe("NAME      N\na         1\nlonger  100\n");
    expect(renderTable([{ header: "A" }, { header: "B" }], [["x", ""]], { indent: "  " })).toBe("  A  B\n  x\n");
  });

  it("renders markdown with right-aligned rules and escaped pipes", () => {
    expect(renderMarkdownTable(columns, [["a|b", "1"]])).toBe("| NAME | N |\n| --- | ---: |\n| a\\|b | 1 |\n");
  });
});

describe("metric direction", () => {
  it("judges a change better or worse by the metric's name, and leaves counts alone", () => {
    expect(judgeChange("evaluate.f1", 0.01)).toBe("better");
    expect(judgeChange("evaluate.f1_std", 0.01)).toBe("worse");
    expect(judgeChange("finetune2.best_val_loss", 0.01)).toBe("worse");
    expect(judgeChange("finetune2.best_val_dice", -0.01)).toBe("worse");
    expect(judgeChange("load.items", 5)).toBeNull();
  });
});
