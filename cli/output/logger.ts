/**
 * Picks the logger for a run: listr2 on an interactive terminal, plain lines otherwise
 * (CI, pipes, log files).
 */
import type { Logger } from "../../pipeline/events.js";
import type { CommandIO } from "../command.js";
import { ListrLogger } from "./listr-logger.js";
import { PlainLogger } from "./plain-logger.js";

export interface LoggerOptions {
  /** Show stages outside --only/--from/--until, and artifact digests in plain output. */
  readonly verbose?: boolean;
  /** Stages may run at once (`--jobs` above 1): listr shows each running one. */
  readonly concurrent?: boolean;
  /** Several runs print at once (a sweep with `--jobs`): plain lines, each starting with this. */
  readonly prefix?: string;
}

export function createLogger(io: CommandIO, options: LoggerOptions = {}): Logger {
  const verbose = options.verbose ?? false;
  if (options.prefix !== undefined) return new PlainLogger(io, { verbose, prefix: options.prefix });
  return io.interactive ? new ListrLogger({ verbose, io, concurrent: options.concurrent ?? false }) : new PlainLogger(io, { verbose });
}
