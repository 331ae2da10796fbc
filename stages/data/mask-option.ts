/**
 * A mask encoding written on a command line (`mu-pipe score --mask`): the load stage's
 * `mask:` option, checked by the same schema, in a short form or in its YAML form.
 *
 *   binary[:T]          sclera where the grey value > T (default 0: any nonzero)
 *   class-index:N       sclera where the sample (or palette index) is N
 *   rgb:R,G,B[~TOL]     sclera where the colour is R,G,B (each channel within TOL)
 *   alpha[:T]           sclera where alpha > T
 *   {kind: rgb, sclera: [255, 0, 0], tolerance: 48}   the load stage's YAML, as is
 */
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";

import type { MaskEncoding } from "./dataset-manifest.js";
import { maskEncodingSchema } from "./mask-schema.js";

export const MASK_OPTION_FORMS = "binary[:T], class-index:N, rgb:R,G,B[~TOL], alpha[:T], or the load stage's YAML form, e.g. {kind: class-index, sclera: 1}";

/** The text is not a mask encoding; the message says what is wrong with it. */
export class MaskOptionError extends Error {
  constructor(
    readonly text: string,
    readonly problem: string,
  ) {
    super(`${JSON.stringify(text)}: ${problem}`);
    this.name = "MaskOptionError";
  }
}

export function parseMaskOption(text: string): MaskEncoding {
  const candidate = text.trimStart().startsWith("{") ? fromYaml(text) : fromShortForm(text);
  checkAgainstSchema(text, candidate);
  return candidate as MaskEncoding;
}

function fromShortForm(text: string): unknown {
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const value = colon < 0 ? null : text.slice(colon + 1);
  const number = (part: string, what: string): number => {
    if (!/^\d+(\.\d+)?$/.test(part.trim())) throw new MaskOptionError(text, `${what} must be a number, not ${JSON.stringify(part)}`);
    return Number(part);
  };
  switch (kind) {
    case "binary":
    case "alpha":
      return value === null ? { kind } : { kind, threshold: number(value, "the threshold") };
    case "class-index":
      if (value === null) throw new MaskOptionError(text, "class-index needs the sclera's class value, e.g. class-index:1");
      return { kind, sclera: number(value, "the class value") };
    case "rgb": {
      if (value === null) throw new MaskOptionError(text, "rgb needs the sclera's colour, e.g. rgb:255,0,0");
      const [colour = "", tolerance] = value.split("~");
      const channels = colour.split(",");
      if (channels.length !== 3) throw new MaskOptionError(text, `the colour must be R,G,B (three numbers), not ${JSON.stringify(colour)}`);
      const sclera = channels.map((c) => number(c, "each colour channel"));
      return tolerance === undefined ? { kind, sclera } : { kind, sclera, tolerance: number(tolerance, "the tolerance") };
    }
    default:
      throw new MaskOptionError(text, `unknown mask kind ${JSON.stringify(kind)}; expected ${MASK_OPTION_FORMS}`);
  }
}

function fromYaml(text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new MaskOptionError(text, `not valid YAML: ${(error instanceof Error ? error.message : String(error)).split("\n")[0] ?? ""}`);
  }
}

let validate: ReturnType<Ajv["compile"]> | null = null;

function checkAgainstSchema(text: string, candidate: unknown): void {
  validate ??= new Ajv({ allErrors: false, strictTypes: false }).compile(maskEncodingSchema);
  if (validate(candidate)) return;
  const error = validate.errors?.[0];
  const where = error?.instancePath ? `${error.instancePath.slice(1).replaceAll("/", ".")} ` : "";
  throw new MaskOptionError(text, `${where}${error?.message ?? "is not a mask encoding"}${error?.keyword === "additionalProperties" ? ` (${String(error.params["additionalProperty"])})` : ""}`);
}
