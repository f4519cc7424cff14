/**
 * The CLI's vocabulary: what a command declares (its words, arguments and options) and what it is
 * handed when it runs. Commands are rows of a table (`./commands.ts`); the parser (`./args.ts`) and
 * the help (`./help.ts`) read only these declarations, so adding a command is adding a row.
 */

import { escapeText } from '../errors.js';
import type { Logger } from '../logger.js';

/** Where the CLI writes and what environment it reads (process.env, or a test's object). */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** The exit codes, one meaning each (documented in the README and in `--help`). */
export const EXIT = {
  /** Found, or done. */
  ok: 0,
  /** Not found, and every source answered. */
  notFound: 1,
  /** A usage error or a configuration error (nothing was looked up, or the lookup was stopped). */
  usage: 2,
  /**
   * Not found while at least one source failed: the answer may be incomplete. For the commands that
   * write, list or migrate: a backend (the metastore, a target) could not be reached, read or written.
   */
  sourceFailed: 3,
  /** An unexpected internal error: a bug in airflow-secrets (the message names the error, never a value). */
  internal: 4,
} as const;

/** The line of `--help` and the README for exit code 4 (every command can end with it). */
export const INTERNAL_EXIT_HELP = '  4  internal error: a bug in airflow-secrets (please report it)';

export const EXIT_CODES_HELP = `Exit codes:
  0  found, or done
  1  not found (every source answered)
  2  usage or configuration error
  3  not found while at least one source failed (the failure's reason is printed)
${INTERNAL_EXIT_HELP}`;

/** A command-line mistake: one line, plus a hint at the help of `command` (its words) when known. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly command: readonly string[] | undefined;
  constructor(message: string, command?: readonly string[]) {
    super(message);
    this.command = command;
  }
}

export interface OptionSpec {
  /** The long name as typed, e.g. `--output`. */
  name: `--${string}`;
  /** A one-letter alias, e.g. `-o`. */
  alias?: `-${string}`;
  /** Present when the option takes a value: its placeholder in the help, e.g. `PATH`. */
  value?: string;
  /** The values allowed, when the set is closed (checked by the parser). */
  choices?: readonly string[];
  /** May be given more than once (every value is kept, in order: `CommandCall.all`). */
  repeatable?: boolean;
  help: string;
}

export interface ArgSpec {
  /** As shown in the usage line, e.g. `CONN_ID`. */
  name: string;
  /** The values allowed, when the set is closed (checked by the parser). */
  choices?: readonly string[];
  /** Also accepted, not shown in messages (e.g. plurals). */
  aliases?: readonly string[];
  /** May be left out (only the last arguments can be). */
  optional?: boolean;
}

/** What a command's `run` is handed: its arguments, its options, the I/O and the global flags. */
export interface CommandCall {
  /** The words that named the command, e.g. `['connections', 'get']`. */
  readonly words: readonly string[];
  /** The positional arguments after the words, in the order of the command's `args`. */
  readonly args: readonly string[];
  /** The value of an option (by its long name), or undefined when not given. */
  value(name: string): string | undefined;
  /** Whether a flag (by its long name) was given. */
  flag(name: string): boolean;
  /** Every value option given, long name → value (the last one, for a repeated option). */
  readonly values: Readonly<Record<string, string>>;
  /** Every value given for an option, in order (one for a non-repeatable option; none if absent). */
  all(name: string): readonly string[];
  /** Where to write, and the environment (the `--env` file already applied over it). */
  readonly io: CliIO;
  /** `--strict`: a failing backend fails the lookup instead of falling through. */
  readonly strict: boolean;
}

export interface CommandSpec {
  /** The words that name the command, e.g. `['connections', 'get']`. */
  words: readonly string[];
  args: readonly ArgSpec[];
  /** One line for the command list. */
  summary: string;
  /** More lines for the command's own `--help` (rules, examples). */
  details?: string;
  options: readonly OptionSpec[];
  /** The exit codes this command uses, as lines for its `--help` (default: all of them). */
  exits?: string;
  run(call: CommandCall): Promise<number>;
}

/** The options every command accepts, anywhere on the line. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: '--env',
    alias: '-e',
    value: 'PATH',
    help: 'read KEY=VALUE lines (an Astro-style .env) over the environment',
  },
  {
    name: '--env-file',
    value: 'PATH',
    help: 'the same as --env; Node itself claims a missing --env-file PATH (nodejs/node#54232): prefer --env',
  },
  {
    name: '--strict',
    help: 'a failing backend fails the lookup (default: log it and ask the next backend)',
  },
  { name: '--help', alias: '-h', help: 'show the help (of a command: airflow-secrets COMMAND --help)' },
  { name: '--version', help: 'print the version' },
];

/**
 * The CLI's logger: warnings and errors on stderr, debug lines with `AIRFLOW_SECRETS_DEBUG`, each
 * message escaped (an id with a line break cannot forge a line). `quiet.quiet` silences warnings
 * (for a second, silent look); `prefix` replaces the `warning: ` / `error: ` / `debug: ` labels.
 */
export function cliLogger(io: CliIO, options: { quiet?: { quiet: boolean }; prefix?: string } = {}): Logger {
  const line = (label: string, message: string) =>
    io.err(`${options.prefix ?? `${label}: `}${escapeText(message)}`);
  return {
    debug(message) {
      if (io.env.AIRFLOW_SECRETS_DEBUG) line('debug', message);
    },
    warn(message) {
      if (!options.quiet?.quiet) line('warning', message);
    },
    error(message) {
      line('error', message);
    },
  };
}
