import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../dist/cli/main.js';

const HOME = mkdtempSync(join(tmpdir(), 'fuzz-cli-'));
const ENV_FILE = join(HOME, 'fixed.env');
writeFileSync(ENV_FILE, 'AIRFLOW_VAR_FROM_FILE=from-file\n');
const ENV = {
  AIRFLOW_HOME: HOME,
  // An unsupported dialect: metastore reads and writes fail with a ConfigurationError, never touch disk.
  AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'fuzz://nowhere',
  AIRFLOW_CONN_C1: 'mysql://user:pass@host:3306/db?a=b',
  AIRFLOW_CONN_J1: '{"conn_type": "http", "host": "h", "port": 80}',
  AIRFLOW_VAR_V1: 'value',
  AIRFLOW_VAR_J1: '{"a": [1, 2]}',
};

/**
 * The CLI's argv parser and commands: arguments are the input split at newlines. `--env-file` always
 * reads a fixed file (a fuzzed one could set `…_CMD` variables, which run commands). Every run must
 * end with an exit code 0, 1 or 2 — `main` catches everything, so a thrown error is a finding.
 */
export async function fuzz(data) {
  const argv = data.toString('utf8').split('\n');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--env-file') argv[i + 1] = ENV_FILE;
    else if (argv[i].startsWith('--env-file=')) argv[i] = `--env-file=${ENV_FILE}`;
  }
  const io = { out() {}, err() {}, env: ENV };
  const code = await main(argv, io);
  if (code !== 0 && code !== 1 && code !== 2) throw new Error(`exit code ${code}`);
}
