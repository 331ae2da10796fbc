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
