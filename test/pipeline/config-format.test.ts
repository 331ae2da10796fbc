/** formatDiagnostic: the exact text the CLI prints for a config problem. */
import { describe, expect, test } from "vitest";
import { formatDiagnostic } from "../../pipeline/config/format-diagnostic.js";
import type { Diagnostic, SourceSpan } from "../../pipeline/failure.js";

const TEXT = [
  "experiment: quickstart",
  "stages:",
  "  finetune2:",
  "    uses: train",
  "    params:",
  "      epochs: 3",
  "      batch: 8",
  "      seed: 1",
  "      size: 224",
  "      warmup: 2",
  "      decay: 0.9",
  "      lr: fast",
  "",
].join("\n");

function span(start: [number, number], end: [number, number], text = TEXT, file = "configs/quickstart.yaml"): SourceSpan {
  return { file, text, start: { line: start[0], column: start[1] }, end: { line: end[0], column: end[1] } };
}

const WRONG_TYPE: Diagnostic = {
  span: span([12, 11], [12, 15]),
  file: "configs/quickstart.yaml",
  keyPath: "stages.finetune2.params.lr",
  message: 'expected number, found string "fast"',
};

describe("formatDiagnostic", () => {
  test("shows file:line:col, the key path, the source line and an underline", () => {
    expect(formatDiagnostic(WRONG_TYPE)).toBe(
      [
        'configs/quickstart.yaml:12:11 - error: stages.finetune2.params.lr: expected number, found string "fast"',
        "",
        "  12 |       lr: fast",
        "     |           ~~~~",
      ].join("\n"),
    );
  });

  test("adds one line per hint", () => {
    const d: Diagnostic = {
      span: span([4, 11], [4, 16]),
      file: "configs/quickstart.yaml",
      keyPath: "stages.finetune2.uses",
      message: "unknown stage type `train`",
      hints: ["did you mean `training`?", "known stage types: load, training"],
    };
    expect(formatDiagnostic(d)).toBe(
      [
        "configs/quickstart.yaml:4:11 - error: stages.finetune2.uses: unknown stage type `train`",
        "",
        "  4 |     uses: train",
        "    |           ~~~~~",
        "  hint: did you mean `training`?",
        "  hint: known stage types: load, training",
      ].join("\n"),
    );
  });

  test("a span over several lines is underlined to the end of its first line", () => {
    const d: Diagnostic = { span: span([5, 5], [12, 15]), file: "x", keyPath: "stages.finetune2.params", message: "too many params" };
    expect(formatDiagnostic(d)).toBe(
      ["configs/quickstart.yaml:5:5 - error: stages.finetune2.params: too many params", "", "  5 |     params:", "    |     ~~~~~~~"].join("\n"),
    );
  });

  test("an empty span still gets one mark, and an empty key path is left out", () => {
    const d: Diagnostic = { span: span([1, 1], [1, 1], "", "e.yaml"), file: "e.yaml", keyPath: "", message: "the document is empty" };
    expect(formatDiagnostic(d)).toBe(["e.yaml:1:1 - error: the document is empty", "", "  1 | ", "    | ~"].join("\n"));
  });

  test("tabs before the span are kept so the underline lines up", () => {
    const d: Diagnostic = { span: span([1, 7], [1, 10], "x: {a:\tbad}", "e.yaml"), file: "e.yaml", keyPath: "x.a", message: "bad" };
    expect(formatDiagnostic(d)).toBe(["e.yaml:1:7 - error: x.a: bad", "", "  1 | x: {a:\tbad}", "    |       ~~~"].join("\n"));
  });

  test("without a span, only the file is named", () => {
    const d: Diagnostic = { span: null, file: "configs/nope.yaml", keyPath: "", message: "cannot read the file: no such file", hints: ["check the path"] };
    expect(formatDiagnostic(d)).toBe(["configs/nope.yaml - error: cannot read the file: no such file", "  hint: check the path"].join("\n"));
  });

  test("an override is shown as its own one-line source", () => {
    const text = "stages.finetune2.params.lr=fast";
    const d: Diagnostic = { span: span([1, 28], [1, 32], text, "--set"), file: "--set", keyPath: "stages.finetune2.params.lr", message: "expected number" };
    expect(formatDiagnostic(d)).toBe(
      ["--set:1:28 - error: stages.finetune2.params.lr: expected number", "", `  1 | ${text}`, "    |                            ~~~~"].join("\n"),
    );
  });

  test("colour adds ANSI codes only around the same text", () => {
    const plain = formatDiagnostic(WRONG_TYPE);
    const coloured = formatDiagnostic(WRONG_TYPE, { color: true });
    const esc = String.fromCharCode(27);
    expect(plain).not.toContain(esc);
    expect(coloured).toContain(`${esc}[31merror${esc}[0m`);
    expect(coloured.replace(new RegExp(`${esc}\\[\\d+m`, "g"), "")).toBe(plain);
  });
});
