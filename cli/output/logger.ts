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
}

export function createLogger(io: CommandIO, options: LoggerOptions = {}): Logger {
  const verbose = options.verbose ?? false;
  return io.interactive ? new ListrLogger({ verbose, io }) : new PlainLogger(io, { verbose });
}
