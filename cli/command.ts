/**
 * What every subcommand module exports. Modules are imported lazily by cli/main.ts, so
 * `mu-pipe status` never loads sharp or TensorFlow.
 */

export interface CommandIO {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** True when stdout is an interactive terminal and `CI` is not set: listr2 and colour allowed. */
  readonly interactive: boolean;
  /** The only way commands write to the terminal (cli/output owns formatting). */
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage text shown by `mu-pipe <name> --help` and on usage errors. */
  readonly usage: string;
  /** Returns the exit code; throws MuPipeError for failures (printed once by cli/main.ts). */
  run(argv: readonly string[], io: CommandIO): Promise<number>;
}
