/** Argument parsing for subcommands: node's parseArgs, with its errors turned into usage failures. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closestMatch } from "../pipeline/config/did-you-mean.js";
import { MuPipeError } from "../pipeline/failure.js";

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: T, usage: string) {
  checkOptionNames(argv, options, usage);
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new MuPipeError({ reason: "usage", message: error instanceof Error ? error.message : String(error), hint: usage });
  }
}

/**
 * Unknown options fail with a did-you-mean naming the command, before node's parser
 * (whose message names no command and guesses nothing) sees them.
 */
function checkOptionNames(argv: readonly string[], options: NonNullable<ParseArgsConfig["options"]>, usage: string): void {
  const names = Object.keys(options);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return;
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) continue;
    const name = arg.startsWith("--") ? arg.slice(2).split("=")[0] ?? "" : null;
    const known = name !== null && Object.hasOwn(options, name) ? options[name] : undefined;
    if (known) {
      // A string option's value may itself start with a dash (`--set a=-1`).
      if (known.type === "string" && !arg.includes("=")) i++;
      continue;
    }
    const guess = name === null ? null : closestMatch(name, names);
    const shown = arg.split("=")[0] ?? arg;
    const hint = guess === null ? `; options: ${names.map((n) => `--${n}`).join(", ")}` : `; did you mean --${guess}?`;
    throw new MuPipeError({ reason: "usage", message: `unknown option ${shown} for \`${commandOf(usage)}\`${hint}`, hint: usage });
  }
}

/** `run` from "usage: mu-pipe run <experiment.yaml> ...", `runs rm` from "usage: mu-pipe runs rm ...". */
function commandOf(usage: string): string {
  const words = /^usage: mu-pipe ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)/.exec(usage)?.[1];
  return words ?? "mu-pipe";
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

const AGE_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An age such as `30m`, `12h`, `7d` or `2w`, in milliseconds. */
export function parseAge(text: string, option: string, usage: string): number {
  const match = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(text.trim());
  const unit = match?.[2] === undefined ? undefined : AGE_UNITS[match[2]];
  if (!match || unit === undefined) {
    throw new MuPipeError({ reason: "usage", message: `${option} must be a number with a unit m, h, d or w (e.g. 7d), not ${text}`, hint: usage });
  }
  return Number(match[1]) * unit;
}
