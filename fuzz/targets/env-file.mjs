import { parseEnvFile } from '../../dist/cli/env-file.js';
import { typed } from './_check.mjs';

/** The CLI's `--env-file` parser (Astro/docker-compose style). */
export function fuzz(data) {
  typed(() => parseEnvFile(data.toString('utf8'), 'fuzz.env'));
}
