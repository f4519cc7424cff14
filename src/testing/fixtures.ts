/**
 * An in-memory backend seeded from Airflow-format fixtures: the same `.env`, JSON and YAML files the
 * local-filesystem backend reads, parsed by the same code (same rules, same errors), once, when the
 * backend is built.
 */
import { readFileSync } from 'node:fs';
import {
  loadConfigs,
  loadConnections,
  loadVariables,
  type SecretFileFormat,
  secretFileFormat,
} from '../backends/local-filesystem/index.js';
import { type MemoryBackend, memory } from '../backends/memory.js';
import { ConfigurationError } from '../errors.js';

export interface FixtureOptions {
  /**
   * Connections: a file path (a string without a line break ending in `.env`, `.json`, `.yaml` or
   * `.yml`, read now), or the text of such a file.
   */
  connections?: string | undefined;
  /** Variables: a file path or the text of a file, as for `connections`. */
  variables?: string | undefined;
  /** Config values (Airflow's `get_config`): a file path or the text of a file. */
  configs?: string | undefined;
  /**
   * Format of fixtures given as text. Default: `json` when the text starts with `{`, else `env`.
   * Ignored for paths (the extension decides, as in Airflow).
   */
  format?: SecretFileFormat | 'yml' | undefined;
  /** Backend name. Default `fixtures`. */
  name?: string | undefined;
}

function load<T>(
  what: string,
  source: string,
  format: FixtureOptions['format'],
  name: string,
  parse: (text: string, format: SecretFileFormat, label: string, backend: string) => Map<string, T>,
): Record<string, T> {
  const asPath = !/[\r\n]/.test(source) ? secretFileFormat(source) : null;
  let text: string;
  let fmt: SecretFileFormat;
  let label: string;
  if (asPath) {
    text = readFileSync(source, 'utf8').replace(/\r\n?/g, '\n');
    fmt = asPath;
    label = source;
  } else {
    text = source.replace(/\r\n?/g, '\n');
    fmt = format === 'yml' ? 'yaml' : (format ?? (text.trimStart().startsWith('{') ? 'json' : 'env'));
    if (!['env', 'json', 'yaml'].includes(fmt)) {
      throw new ConfigurationError('format', "format must be 'env', 'json', 'yaml' or 'yml'");
    }
    label = `<${what} fixture>`;
  }
  return Object.fromEntries(parse(text, fmt, label, name));
}

/**
 * A memory backend holding the fixtures' connections, variables and configs. Bad fixtures throw
 * now, with the local-filesystem backend's errors (`SecretFileError`, Airflow's texts).
 *
 * ```ts
 * const backend = fromFixtures({ connections: 'test/fixtures/connections.yaml', variables: 'FLAG=on\n' });
 * ```
 */
export function fromFixtures(options: FixtureOptions): MemoryBackend {
  const name = options.name ?? 'fixtures';
  const { format } = options;
  return memory({
    name,
    connections: options.connections
      ? load('connections', options.connections, format, name, loadConnections)
      : {},
    variables: options.variables ? load('variables', options.variables, format, name, loadVariables) : {},
    configs: options.configs ? load('configs', options.configs, format, name, loadConfigs) : {},
  });
}
