/**
 * The library as a service uses it: top-level functions on the default resolver (built from
 * process.env), typed not-found errors, and an explicit resolver with a cache. Type-checked in CI.
 * Run: AIRFLOW_CONN_ORDERS_DB='postgres://app:pw@db:5432/orders' npx tsx examples/basic.ts
 */

import { environmentVariables } from '../src/backends/environment.js';
import { memory } from '../src/backends/memory.js';
import {
  ConnectionNotFoundError,
  createResolver,
  getConnection,
  getVariable,
  getVariableOrThrow,
  VariableNotFoundError,
} from '../src/index.js';

export async function databaseConfig() {
  const conn = await getConnection('orders_db');
  if (!conn) return null;
  return {
    host: conn.host ?? 'localhost',
    port: conn.port ?? 5432,
    user: conn.login ?? undefined,
    password: conn.password ?? undefined,
    database: conn.schema ?? undefined,
    ssl: conn.extraDejson.sslmode === 'require',
  };
}

export async function featureFlags(): Promise<Record<string, boolean>> {
  return getVariable<Record<string, boolean>, Record<string, boolean>>('feature_flags', {
    deserializeJson: true,
    default: {},
  });
}

export async function requiredSetting(key: string): Promise<string> {
  try {
    return await getVariableOrThrow(key);
  } catch (e) {
    if (e instanceof VariableNotFoundError) throw new Error(`Set AIRFLOW_VAR_${key.toUpperCase()} first`);
    throw e;
  }
}

/** An explicit chain: an in-memory override first, then the environment, with a 5-minute cache. */
export function explicitResolver() {
  return createResolver({
    backends: [memory({ variables: { region: 'eu-west-1' } }), environmentVariables()],
    cache: { ttl: 300 },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = await databaseConfig();
  console.log(cfg ? { ...cfg, password: cfg.password ? '***' : undefined } : 'orders_db is not defined');
  console.log('flags', await featureFlags());
  const r = explicitResolver();
  console.log('region', await r.getVariable('region'));
  await r.getConnectionOrThrow('nowhere').catch((e: unknown) => {
    if (e instanceof ConnectionNotFoundError) console.log(`not found: ${e.connId}`);
  });
}
