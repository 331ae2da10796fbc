/** Argument parsing for subcommands: node's parseArgs, with its errors turned into usage failures. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { MuPipeError } from "../pipeline/failure.js";

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new MuPipeError({ reason: "usage", message: error instanceof Error ? error.message : String(error), hint: usage });
  }
}

export function requirePositionals(positionals: readonly string[], count: number, what: string, usage: string): string[] {
  if (positionals.length < count) throw new MuPipeError({ reason: "usage", message: `missing ${what}`, hint: usage });
  return [...positionals];
}

/** The value of `--format`, checked against the formats a command offers. */
export function formatOption<const F extends string>(value: string | undefined, formats: readonly F[], usage: string): F {
  const found = formats.find((format) => format === value);
  if (found !== undefined) return found;
  const choices = formats.length > 1 ? `${formats.slice(0, -1).join(", ")} or ${formats[formats.length - 1]}` : (formats[0] ?? "");
  throw new MuPipeError({ reason: "usage", message: `--format must be ${choices}, not ${value}`, hint: usage });
}
