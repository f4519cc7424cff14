/**
 * The default resolver behind the top-level functions: built lazily, once, from `process.env`
 * (`resolverFromEnv()`). Tests can replace it (`setDefaultResolver`) and reset it. The
 * configuration code is imported on the first lookup, not with the package root; so is the
 * inventory code behind the root's `migrate`.
 */

import type { FromEnvOptions } from './config/index.js';
import type { Connection } from './connection.js';
import type { MigrateOptions, MigrateResult } from './inventory/index.js';
import type { GetVariableOptions, LookupOptions, Resolver } from './resolver/index.js';

let current: Promise<Resolver> | undefined;

/** `migrate` as the package root exports it: `src/inventory/` is imported on the first call. */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  return (await import('./inventory/index.js')).migrate(options);
}

/**
 * `resolverFromEnv` as the package root exports it: the configuration code (settings, `airflow.cfg`,
 * `_CMD`, the chain) is imported on the first call, so `import 'airflow-secrets'` stays light.
 */
export async function resolverFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: FromEnvOptions = {},
): Promise<Resolver> {
  return (await import('./config/index.js')).resolverFromEnv(env, options);
}

/** The default resolver, built from `process.env` on first use. A failed build is retried on the next call. */
export function getDefaultResolver(): Promise<Resolver> {
  if (!current) {
    const building = resolverFromEnv();
    current = building;
    building.catch(() => {
      if (current === building) current = undefined;
    });
  }
  return current;
}

/** Use `resolver` for the top-level functions until reset. */
export function setDefaultResolver(resolver: Resolver): void {
  current = Promise.resolve(resolver);
}

/** Forget the default resolver; the next lookup builds a new one from `process.env`. Returns the old one (not closed). */
export function resetDefaultResolver(): Promise<Resolver> | undefined {
  const old = current;
  current = undefined;
  return old;
}

/** The connection (frozen: `clone()` for a mutable copy), or `null` when no source has it. */
export async function getConnection(connId: string, options?: LookupOptions): Promise<Connection | null> {
  return (await getDefaultResolver()).getConnection(connId, options);
}

/** The connection, or throws `ConnectionNotFoundError` (with the failures seen). */
export async function getConnectionOrThrow(connId: string, options?: LookupOptions): Promise<Connection> {
  return (await getDefaultResolver()).getConnectionOrThrow(connId, options);
}

/** The variable's value, `options.default` (as given) when missing, else `null`; JSON-decoded on request. */
export function getVariable(
  key: string,
  options?: LookupOptions & { deserializeJson?: false; default?: never },
): Promise<string | null>;
export function getVariable<D>(
  key: string,
  options: GetVariableOptions<D> & { deserializeJson?: false | undefined },
): Promise<string | D>;
export function getVariable<T = unknown, D = null>(
  key: string,
  options: GetVariableOptions<D> & { deserializeJson: true },
): Promise<T | D>;
export async function getVariable(key: string, options?: GetVariableOptions): Promise<unknown> {
  const r = await getDefaultResolver();
  return options === undefined
    ? r.getVariable(key)
    : r.getVariable(key, options as GetVariableOptions<unknown> & { deserializeJson: true });
}

/** The variable's value (JSON-decoded on request), or throws `VariableNotFoundError` (with the failures seen). */
export function getVariableOrThrow<T = unknown>(
  key: string,
  options: LookupOptions & { deserializeJson: true },
): Promise<T>;
export function getVariableOrThrow(
  key: string,
  options?: LookupOptions & { deserializeJson?: false },
): Promise<string>;
export async function getVariableOrThrow(
  key: string,
  options?: LookupOptions & { deserializeJson?: boolean },
): Promise<unknown> {
  const r = await getDefaultResolver();
  return options?.deserializeJson
    ? r.getVariableOrThrow(key, { ...options, deserializeJson: true })
    : r.getVariableOrThrow(key, options as LookupOptions & { deserializeJson?: false });
}
