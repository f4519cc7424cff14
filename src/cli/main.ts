/**
 * `airflow-secrets` — look up Airflow connections and variables the way Airflow does, from the same
 * environment, and explain where each answer comes from. The commands are rows of `./commands.ts`;
 * this module parses the line, answers `--help`, `help` and `--version`, applies the `--env` file,
 * runs the command and turns what it threw into one message and an exit code (`EXIT` in ./spec.ts):
 * 0 found or done, 1 not found, 2 usage or configuration error, 3 not found while a source failed
 * (or a write, listing or migration a backend failed), 4 an unexpected internal error (a bug).
 */
import { readFileSync } from 'node:fs';
import { describeError, escapeText, isAirflowSecretsError, isBackendError } from '../errors.js';
import { checkArgs, type ParsedLine, parseLine } from './args.js';
import { COMMANDS } from './commands.js';
import { readEnvFile } from './env-file.js';
import { commandHelp, groupHelp, helpHint, mainHelp } from './help.js';
import { type CliIO, type CommandCall, EXIT, UsageError } from './spec.js';

export { formatExplanation } from './format.js';
export type { CliIO } from './spec.js';

/** The whole help, as `airflow-secrets --help` prints it. */
export const USAGE = mainHelp(COMMANDS);

export async function main(argv: string[], io: CliIO): Promise<number> {
  try {
    const line = parseLine(argv, COMMANDS);
    if (line.flags.has('--version')) {
      io.out(version());
      return EXIT.ok;
    }
    const help = helpFor(line);
    if (help !== null) {
      io.out(help);
      return EXIT.ok;
    }
    const command = line.command;
    if (!command) {
      if (argv.length === 0) {
        io.err(USAGE);
        return EXIT.usage;
      }
      throw unknownCommand(line);
    }
    checkArgs(command, line.args);
    const call: CommandCall = {
      words: command.words,
      args: line.args,
      values: line.values,
      value: (name) => line.values[name],
      all: (name) => line.multi[name] ?? [],
      flag: (name) => line.flags.has(name),
      io: withEnvFile(io, line),
      strict: line.flags.has('--strict'),
    };
    return await command.run(call);
  } catch (e) {
    return report(e, io);
  }
}

/** The help asked for (`--help` anywhere, or `help [WORDS]`), or null. */
function helpFor(line: ParsedLine): string | null {
  const asked = line.flags.has('--help');
  if (!asked && !(line.command === null && line.words.length === 0 && line.args[0] === 'help')) return null;
  const words = asked ? [...line.words, ...(line.command ? [] : line.args)] : line.args.slice(1);
  if (words.length === 0) return USAGE;
  const exact = COMMANDS.find((c) => c.words.join(' ') === words.join(' '));
  if (exact) return commandHelp(exact);
  if (line.command && asked) return commandHelp(line.command);
  if (COMMANDS.some((c) => words.every((w, i) => c.words[i] === w))) return groupHelp(COMMANDS, words);
  throw new UsageError(`Unknown command '${words.join(' ')}'`);
}

function unknownCommand(line: ParsedLine): UsageError {
  if (line.words.length > 0) {
    const next = COMMANDS.filter((c) => line.words.every((w, i) => c.words[i] === w)).map(
      (c) => c.words[line.words.length],
    );
    const given = line.args[0] === undefined ? '' : ` (not '${line.args[0]}')`;
    return new UsageError(
      `${line.words.join(' ')} needs a command: ${[...new Set(next)].join(', ')}${given}`,
      line.words,
    );
  }
  return new UsageError(`Unknown command '${line.args[0]}'`);
}

/** `--env PATH` (or `--env-file PATH`): the file's KEY=VALUE lines over the environment. */
function withEnvFile(io: CliIO, line: ParsedLine): CliIO {
  const env = line.values['--env'];
  const envFile = line.values['--env-file'];
  if (env !== undefined && envFile !== undefined) {
    throw new UsageError('give --env or --env-file, not both', line.command?.words);
  }
  const file = env ?? envFile;
  if (file === undefined) return io;
  return { ...io, env: { ...io.env, ...readEnvFile(file, env !== undefined ? '--env' : '--env-file') } };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** One message and the exit code for what a command threw. */
function report(e: unknown, io: CliIO): number {
  if (e instanceof UsageError) {
    io.err(`airflow-secrets: ${escapeText(e.message)}\n${helpHint(e.command)}`);
    return EXIT.usage;
  }
  if (e instanceof Error && e.name === 'MissingDependencyError') {
    const pkg = (e as Error & { packageName: string }).packageName;
    const by = (e as Error & { setting: string }).setting;
    io.err(
      `airflow-secrets: MissingDependencyError: ${by} needs '${pkg}', which is not installed: npm install ${pkg}`,
    );
    return EXIT.usage;
  }
  if (isBackendError(e)) {
    // A lookup under --strict (the first failure stopped it), a write, a listing or a migration.
    io.err(`airflow-secrets: ${e.name} [${e.reason}]: ${e.message}`);
    return EXIT.sourceFailed;
  }
  if (isAirflowSecretsError(e)) {
    io.err(`airflow-secrets: ${e.name}: ${e.message}`);
    return e.name === 'ConnectionNotFoundError' || e.name === 'VariableNotFoundError'
      ? EXIT.notFound
      : EXIT.usage;
  }
  io.err(
    `airflow-secrets: internal error (a bug in airflow-secrets, please report it): ${escapeText(describeError(e))}`,
  );
  return EXIT.internal;
}
