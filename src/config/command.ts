/**
 * The `_CMD` variants of Airflow's sensitive settings: Python's `shlex.split` (POSIX mode) and
 * Airflow's `run_command` (split, run without a shell, stdout is the value). `node:child_process`
 * is loaded only when a `_CMD` setting is actually used, so `import 'airflow-secrets'` stays light.
 */
import { ConfigurationError, describeError } from '../errors.js';

/** Python `shlex.split` (POSIX mode), enough for `_CMD` values. */
export function shlexSplit(command: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < command.length && '\\"$`\n'.includes(command[i + 1]!))
        cur += command[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 < command.length) cur += command[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error('No closing quotation');
  if (inWord) out.push(cur);
  return out;
}

/**
 * Run a `…_CMD` setting's command as Airflow's `run_command` does (shlex-split, no shell) and return
 * its stdout, without the final line break. `setting` names the variable or key the command came
 * from (`AIRFLOW__CORE__FERNET_KEY_CMD`, `[core] fernet_key_cmd`); failure names it and the exit
 * code, never the output.
 */
export function runCommand(setting: string, command: string): string {
  let argv: string[];
  try {
    argv = shlexSplit(command);
  } catch {
    throw new ConfigurationError(setting, `${setting}: the command has an unclosed quote`);
  }
  if (argv.length === 0) throw new ConfigurationError(setting, `${setting} is empty`);
  try {
    const { execFileSync } = process.getBuiltinModule(
      'node:child_process',
    ) as typeof import('node:child_process');
    const out = execFileSync(argv[0]!, argv.slice(1), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return out.replace(/\r?\n$/, '');
  } catch (e) {
    const status = (e as { status?: number | null }).status;
    throw new ConfigurationError(
      setting,
      `Cannot execute the command in ${setting}. ${status !== undefined && status !== null ? `Error code is: ${status}.` : describeError(e)}`,
    );
  }
}
