/**
 * What a `lig` subcommand is: one module per command (src/cli/<name>.ts) exports `command`.
 * Kept apart from main.ts, which loads the command modules, so they import it without a cycle.
 */

/** Where a command writes: lines to standard output and standard error (tests capture them). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface Command {
  /** One line for `lig help`. */
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run: (argv: string[], io: Io) => Promise<number>;
}
