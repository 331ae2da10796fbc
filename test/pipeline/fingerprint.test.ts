import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Fingerprint } from "../../pipeline/formats.js";
import { MuPipeError } from "../../pipeline/failure.js";
import { CanonicalJsonError, canonicalJson, explainFingerprintChange, fingerprintKey } from "../../pipeline/fingerprint.js";
import type { GraphStage } from "../../pipeline/graph.js";
import type { ExternalInput, StageType } from "../../pipeline/stage.js";
import { fingerprintStage } from "../../pipeline/stage-fingerprint.js";

function fp(overrides: Partial<Fingerprint> = {}): Fingerprint {
  return {
    version: 2,
    stageType: "resize",
    stageVersion: 1,
    params: { size: [256, 256], lr: 0.0001 },
    seed: 42,
    inputs: { dataset: `sha256:${"ab12".repeat(16)}` },
    external: { "../data/eyes": `sha256:${"0".repeat(64)}` },
    ...overrides,
  };
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it("writes every spelling of a number from the experiment file the same way", () => {
    const spellings = parse("a: 1e-4\nb: 0.0001\nc: 1.0E-4\nd: 1.0\ne: 1\nf: -0\n") as Record<string, number>;
    expect(canonicalJson(spellings)).toBe('{"a":0.0001,"b":0.0001,"c":0.0001,"d":1,"e":1,"f":0}');
    expect(canonicalJson(0.00003)).toBe("0.00003");
  });

  it("drops undefined members, so an unset optional param equals an absent one", () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it("rejects NaN and Infinity, naming where they are", () => {
    expect(() => canonicalJson({ params: { lr: Number.NaN } })).toThrow("cannot write params.lr as canonical JSON: NaN is not a JSON number");
    expect(() => canonicalJson({ params: { steps: [1, Infinity] } })).toThrow("cannot write params.steps[1] as canonical JSON: Infinity is not a JSON number");
    expect(() => canonicalJson(-Infinity)).toThrow(CanonicalJsonError);
  });

  it("rejects values JSON would silently mangle", () => {
    expect(() => canonicalJson({ m: new Map([["a", 1]]) })).toThrow("cannot write m as canonical JSON: a Map is not a plain object");
    expect(() => canonicalJson([undefined])).toThrow("[0]");
    expect(() => canonicalJson({ n: 1n })).toThrow("a bigint has no JSON form");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow("cycle");
  });

  it("quotes keys that are not identifiers in error paths", () => {
    expect(() => canonicalJson({ "a.b": { x: Number.NaN } })).toThrow('["a.b"].x');
  });
});

describe("fingerprintKey", () => {
  it("is a sha256 hex that ignores key order and number spelling", () => {
    const a = fingerprintKey(fp({ params: { lr: 1e-4, size: [256, 256] } }));
    const b = fingerprintKey(fp({ params: { size: [256, 256], lr: 0.0001 } }));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toBe(b);
  });

  it("is stable across releases (changing it would invalidate every cache)", () => {
    // sha256 of {"external":{"../data/eyes":"sha256:0…"},"inputs":{"dataset":"sha256:ab12…"},"params":{"lr":0.0001,"size":[256,256]},"seed":42,"stageType":"resize","stageVersion":1,"version":2}
    expect(fingerprintKey(fp())).toBe("73385c11c60485a4c7858f58d391d99d697c03a3928ad2139e3663281f333402");
  });

  it("changes with anything that affects outputs", () => {
    const base = fingerprintKey(fp());
    const variants = [
      fp({ stageVersion: 2 }),
      fp({ params: { size: [256, 256], lr: 0.001 } }),
      fp({ seed: 7 }),
      fp({ inputs: { dataset: `sha256:${"cd34".repeat(16)}` } }),
      fp({ external: {} }),
    ];
    for (const variant of variants) expect(fingerprintKey(variant)).not.toBe(base);
  });
});

describe("explainFingerprintChange", () => {
  it("says when there is no previous run", () => {
    expect(explainFingerprintChange(null, fp())).toEqual(["no previous run of this stage"]);
  });

  it("is empty for identical fingerprints", () => {
    expect(explainFingerprintChange(fp(), fp({ params: { lr: 1e-4, size: [256, 256] } }))).toEqual([]);
  });

  it("names every difference in a fixed order", () => {
    const previous = fp({ params: { lr: 0.0001, model: { depth: 4, width: 16 }, size: [256, 256], old: true } });
    const current = fp({
      stageVersion: 2,
      params: { lr: 0.00003, model: { depth: 5, width: 16 }, size: [256, 320], flips: ["horizontal"] },
      seed: 7,
      inputs: { dataset: `sha256:${"cd34".repeat(16)}`, masks: `sha256:${"ef".repeat(32)}` },
      external: { "../data/eyes": `sha256:${"1".repeat(64)}` },
    });
    expect(explainFingerprintChange(previous, current)).toEqual([
      "stage type resize version 1 -> 2",
      'params.flips added: ["horizontal"]',
      "params.lr changed: 0.0001 -> 0.00003",
      "params.model.depth changed: 4 -> 5",
      "params.old removed: true",
      "params.size[1] changed: 256 -> 320",
      "seed changed: 42 -> 7",
      "input dataset changed (upstream artifact sha256:ab12ab12… -> sha256:cd34cd34…)",
      "input masks added (upstream artifact sha256:efefefef…)",
      "external ../data/eyes changed",
    ]);
  });

  it("reports lists of another length, stage type renames, and removed inputs whole", () => {
    const previous = fp({ params: { flips: ["horizontal"] }, external: {} });
    const current = fp({ stageType: "crop", params: { flips: ["horizontal", "vertical"] }, inputs: {}, seed: null, external: { "data/extra": "sha256:00" } });
    expect(explainFingerprintChange(previous, current)).toEqual([
      "stage type changed: resize -> crop",
      'params.flips changed: ["horizontal"] -> ["horizontal","vertical"]',
      "seed changed: 42 -> null",
      "input dataset removed",
      "external data/extra added",
    ]);
  });

  it("does not list external inputs keyed by the absolute paths of format version 1", () => {
    const previous = { ...fp(), version: 1, external: { "/home/me/data/eyes": `sha256:${"0".repeat(64)}` } } as unknown as Fingerprint;
    expect(explainFingerprintChange(previous, fp())).toEqual(["fingerprint format version 1 -> 2"]);
  });

  it("shortens long values", () => {
    const [reason] = explainFingerprintChange(fp({ params: { ids: "a".repeat(200) } }), fp({ params: { ids: "b" } }));
    expect(reason).toBe(`params.ids changed: "${"a".repeat(78)}… -> "b"`);
  });
});

describe("fingerprintStage: external inputs", () => {
  const digests: Record<string, string> = { "/home/me/project/data/eyes": "sha256:e1", "/mnt/node7/project/data/eyes": "sha256:e1", "/home/me/shared/eyes": "sha256:e2" };
  const sources = (baseDir: string) => ({
    seed: 1,
    baseDir,
    artifactDigestOf: () => "",
    async digestExternal(absPath: string): Promise<string> {
      const digest = digests[absPath];
      if (digest === undefined) throw new MuPipeError({ reason: "io", path: absPath, message: "no such file or folder" });
      return digest;
    },
  });
  const stageReading = (inputs: (baseDir: string) => ExternalInput[]): GraphStage => {
    const type: StageType = { name: "load", version: 1, description: "", paramsSchema: {}, inputs: {}, outputs: {}, externalInputs: (_params, baseDir) => inputs(baseDir), run: async () => undefined };
    return { id: "load", type, config: { id: "load", uses: "load", description: null, inputs: {}, params: {} }, inputs: [] };
  };

  it("keys them by the path relative to the experiment folder, so a moved project keeps its keys", async () => {
    const stage = stageReading((baseDir) => [{ path: path.join(baseDir, "data/eyes"), about: "source.images" }]);
    const here = await fingerprintStage(stage, sources("/home/me/project"));
    const there = await fingerprintStage(stage, sources("/mnt/node7/project"));
    expect(here.external).toEqual({ "data/eyes": "sha256:e1" });
    expect(fingerprintKey(there)).toBe(fingerprintKey(here));
    const outside = await fingerprintStage(stageReading(() => [{ path: "/home/me/shared/eyes", about: "" }]), sources("/home/me/project"));
    expect(outside.external).toEqual({ "../shared/eyes": "sha256:e2" });
  });

  it("uses a stage's own key for a file found by search, and the expected digest of a file still to download", async () => {
    const weights = (file: string): ExternalInput[] => [{ path: file, about: "encoder.weights", key: "imagenet-weights:w.h5", digestIfAbsent: "sha256:official" }];
    const found = await fingerprintStage(stageReading(() => weights("/home/me/shared/eyes")), sources("/home/me/project"));
    expect(found.external).toEqual({ "imagenet-weights:w.h5": "sha256:e2" });
    const toDownload = await fingerprintStage(stageReading(() => weights("/nowhere/w.h5")), sources("/home/me/project"));
    expect(toDownload.external).toEqual({ "imagenet-weights:w.h5": "sha256:official" });
  });

  it("names the param of a path that cannot be read", async () => {
    const stage = stageReading(() => [{ path: "/nowhere/eyes", about: "source.images" }]);
    await expect(fingerprintStage(stage, sources("/home/me/project"))).rejects.toMatchObject({ failure: { reason: "io", path: "/nowhere/eyes (source.images)" } });
  });
});
