/**
 * The help texts, written from the command table: the whole list (`--help`, `help`), a group's
 * commands (`connections --help`) and one command's usage, options and exit codes
 * (`connections get --help`, `help connections get`).
 */
import { type CommandSpec, EXIT_CODES_HELP, GLOBAL_OPTIONS, type OptionSpec } from './spec.js';

const PROG = 'airflow-secrets';

export function usageLine(c: CommandSpec): string {
  const args = c.args.map((a) => (a.optional ? `[${a.name}]` : a.name));
  return [PROG, ...c.words, ...args, c.options.length ? '[options]' : ''].filter(Boolean).join(' ');
}

function optionLines(options: readonly OptionSpec[]): string[] {
  const left = options.map((o) => {
    const names = o.alias ? `${o.alias}, ${o.name}` : `    ${o.name}`;
    const value = o.choices ? ` ${o.choices.join('|')}` : o.value ? ` ${o.value}` : '';
    return `  ${names}${value}`;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return options.map((o, i) => `${left[i]!.padEnd(width)}${o.help}`);
}

function commandList(commands: readonly CommandSpec[]): string[] {
  const left = commands.map((c) => `  ${[...c.words, ...c.args.map((a) => a.name)].join(' ')}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return commands.map((c, i) => `${left[i]!.padEnd(width)}${c.summary}`);
}

/** The top-level help: what the tool does, every command, the global options, the exit codes. */
export function mainHelp(table: readonly CommandSpec[]): string {
  return [
    `Usage: ${PROG} COMMAND [ARGS] [options]`,
    '',
    "Look up Airflow connections and variables through Airflow's chain:",
    '[AIRFLOW__SECRETS__BACKEND] -> AIRFLOW_CONN_* / AIRFLOW_VAR_* -> metadata database.',
    '',
    'Commands:',
    ...commandList([...table, HELP_ROW]),
    '',
    'Options (anywhere on the line):',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    EXIT_CODES_HELP,
    '',
    `Run '${PROG} COMMAND --help' for a command's arguments and options.`,
  ].join('\n');
}

/** `help [COMMAND]`, listed with the commands (main.ts answers it before the table is asked). */
const HELP_ROW: CommandSpec = {
  words: ['help'],
  args: [{ name: '[COMMAND]', optional: true }],
  summary: 'show this help, or the help of a command',
  options: [],
  run: async () => 0,
};

/** The commands whose words start with `words` (e.g. every `connections …`). */
export function groupHelp(table: readonly CommandSpec[], words: readonly string[]): string {
  const members = table.filter((c) => words.every((w, i) => c.words[i] === w));
  return [
    `Usage: ${PROG} ${words.join(' ')} COMMAND [ARGS] [options]`,
    '',
    'Commands:',
    ...commandList(members),
    '',
    `Run '${PROG} ${words.join(' ')} COMMAND --help' for a command's arguments and options.`,
  ].join('\n');
}

/** One command: usage, what it does, its options and the global ones, its exit codes. */
export function commandHelp(c: CommandSpec): string {
  const lines = [`Usage: ${usageLine(c)}`, '', c.summary];
  if (c.details) lines.push('', c.details);
  if (c.options.length) lines.push('', 'Options:', ...optionLines(c.options));
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  lines.push('', c.exits ?? EXIT_CODES_HELP);
  return lines.join('\n');
}

/** The hint printed under a usage error. */
export function helpHint(words: readonly string[] | undefined): string {
  const what = words?.length ? `${words.join(' ')} --help` : '--help';
  return `Run '${PROG} ${what}' for usage.`;
}
