/**
 * Unusable input files found while a data stage works through a dataset. The stage
 * keeps going to find them all, then fails once with an error that names the files.
 */

/** Thrown for one item whose files cannot be used; `files` are the offending paths. */
export class InputFileError extends Error {
  constructor(
    readonly files: readonly string[],
    readonly problem: string,
  ) {
    super(`${files.join(", ")}: ${problem}`);
    this.name = "InputFileError";
  }
}

/** How many problems an error message lists before "and N more". */
export const LISTED_PROBLEMS = 5;

export class InputProblems {
  private readonly seen = new Set<string>();
  private readonly problems: InputFileError[] = [];

  /** Records a problem once (augmented items share their original's files). */
  add(problem: InputFileError): void {
    if (this.seen.has(problem.message)) return;
    this.seen.add(problem.message);
    this.problems.push(problem);
  }

  get count(): number {
    return this.problems.length;
  }

  /** One error naming the first few files; problems sorted so the message is stable. */
  toError(stage: string): Error {
    const lines = this.problems.map((p) => p.message).sort();
    const listed = lines.slice(0, LISTED_PROBLEMS).map((line) => `  ${line}`);
    const rest = lines.length - listed.length;
    if (rest > 0) listed.push(`  and ${rest} more`);
    const noun = lines.length === 1 ? "input file problem" : "input file problems";
    return new Error(`${stage}: ${lines.length} ${noun}:\n${listed.join("\n")}`);
  }
}
