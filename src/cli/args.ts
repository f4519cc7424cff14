/**
 * The command line → a command of the table and its arguments. Options may come before, between or
 * after the words and the arguments (`explain --json connection x`); `--` ends the options;
 * `--name=value` and `--name value` are the same. Whether an option takes a value is read from the
 * command's declaration (or, before the command is known, from any command's: the table keeps one
 * meaning per option name). Every mistake is a `UsageError` of one line.
 */
import { type ArgSpec, type CommandSpec, GLOBAL_OPTIONS, type OptionSpec, UsageError } from './spec.js';

export interface ParsedLine {
  /** The command named, or null when the words name none (then `words` is what was given). */
  command: CommandSpec | null;
  /** The command's words, or the leading words when no command matched. */
  words: string[];
  /** Positional arguments after the command's words. */
  args: string[];
  /** Options given with a value, by long name (the last value). */
  values: Record<string, string>;
  /** Every value of each value option, in order. */
  multi: Record<string, string[]>;
  /** Flags given, by long name. */
  flags: Set<string>;
}

interface Token {
  option: OptionSpec | null;
  /** As typed (`--x`, `-o`), for messages. */
  typed: string;
  value?: string;
}

/** The options a command accepts: its own and the global ones. */
export function optionsOf(command: CommandSpec | null): readonly OptionSpec[] {
  return command ? [...command.options, ...GLOBAL_OPTIONS] : GLOBAL_OPTIONS;
}

function findOption(options: readonly OptionSpec[], typed: string): OptionSpec | undefined {
  return options.find((o) => o.name === typed || o.alias === typed);
}

/** The longest command whose words start the positionals. */
export function matchCommand(
  table: readonly CommandSpec[],
  positionals: readonly string[],
): CommandSpec | null {
  let best: CommandSpec | null = null;
  for (const c of table) {
    if (c.words.length > positionals.length) continue;
    if (!c.words.every((w, i) => positionals[i] === w)) continue;
    if (!best || c.words.length > best.words.length) best = c;
  }
  return best;
}

export function parseLine(argv: readonly string[], table: readonly CommandSpec[]): ParsedLine {
  const every = [...GLOBAL_OPTIONS, ...table.flatMap((c) => c.options)];
  const positionals: string[] = [];
  const tokens: Token[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.length < 2 || !a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const typed = eq < 0 ? a : a.slice(0, eq);
    const known = matchCommand(table, positionals);
    const option = findOption(known ? optionsOf(known) : every, typed) ?? findOption(every, typed) ?? null;
    const token: Token = { option, typed };
    if (eq >= 0) token.value = a.slice(eq + 1);
    else if (option?.value !== undefined) {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(`${typed} needs a value (${option.value})`, known?.words);
      token.value = v;
      i++;
    }
    tokens.push(token);
  }
  const command = matchCommand(table, positionals);
  const words = command ? [...command.words] : leadingWords(table, positionals);
  const parsed: ParsedLine = {
    command,
    words,
    args: positionals.slice(words.length),
    values: {},
    multi: {},
    flags: new Set(),
  };
  for (const t of tokens) applyOption(parsed, t);
  return parsed;
}

/** The positionals that name a group of the table (e.g. `connections`), for a group's help. */
function leadingWords(table: readonly CommandSpec[], positionals: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of positionals) {
    const next = [...out, p];
    if (!table.some((c) => next.every((w, i) => c.words[i] === w))) break;
    out.push(p);
  }
  return out;
}

function applyOption(parsed: ParsedLine, t: Token): void {
  const where = parsed.command?.words;
  const allowed = optionsOf(parsed.command);
  const option = t.option && allowed.includes(t.option) ? t.option : findOption(allowed, t.typed);
  if (!option) {
    const scope = where ? ` for '${where.join(' ')}'` : '';
    throw new UsageError(`Unknown option ${t.typed}${scope}`, where);
  }
  if (option.value === undefined) {
    if (t.value !== undefined) throw new UsageError(`${option.name} takes no value`, where);
    parsed.flags.add(option.name);
    return;
  }
  const value = t.value!;
  if (option.choices && !option.choices.includes(value)) {
    throw new UsageError(`${option.name} must be ${oneOf(option.choices)}, not '${value}'`, where);
  }
  parsed.values[option.name] = value;
  if (option.repeatable) (parsed.multi[option.name] ??= []).push(value);
  else parsed.multi[option.name] = [value];
}

/** The arguments against the command's declaration: the count, and closed sets of values. */
export function checkArgs(command: CommandSpec, args: readonly string[]): void {
  const specs: readonly ArgSpec[] = command.args;
  const required = specs.filter((s) => !s.optional).length;
  const what = command.words.join(' ');
  if (args.length < required || args.length > specs.length) {
    const names = specs.map((s) => s.name);
    const need =
      specs.length === 1 ? `exactly one ${names[0]}` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    const extra = args.length > specs.length ? ` (unexpected '${args[specs.length]}')` : '';
    throw new UsageError(`${what} needs ${need}${extra}`, command.words);
  }
  specs.forEach((s, i) => {
    const a = args[i];
    if (a !== undefined && s.choices && !s.choices.includes(a) && !s.aliases?.includes(a)) {
      throw new UsageError(`${what}: ${s.name} must be ${oneOf(s.choices)}, not '${a}'`, command.words);
    }
  });
}

/** `a`, `a or b`, `a, b or c`. */
function oneOf(values: readonly string[]): string {
  return values.length < 2 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}
