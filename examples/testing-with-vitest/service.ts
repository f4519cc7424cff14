/**
 * A small service that reads its secrets through airflow-secrets: a PostgreSQL client config from
 * the `orders_db` connection, and a feature flag from the `feature_flags` variable. In your code,
 * import from 'airflow-secrets' instead of '../../src/index.js'.
 */
import { getConnectionOrThrow, getVariable, isBackendError } from '../../src/index.js';

export interface OrdersDbConfig {
  host: string;
  port: number;
  database: string;
  user: string | undefined;
  password: string | undefined;
  ssl: boolean;
  applicationName: string;
}

/** The DB client config for the orders database. Throws `ConnectionNotFoundError` when it is not defined. */
export async function ordersDbConfig(): Promise<OrdersDbConfig> {
  const conn = await getConnectionOrThrow('orders_db');
  if (conn.type !== 'postgres') throw new Error(`orders_db must be a postgres connection, not ${conn.type}`);
  const extra = conn.extraDejson;
  return {
    host: conn.host ?? 'localhost',
    port: conn.port ?? 5432,
    database: conn.schema || 'orders',
    user: conn.login ?? undefined,
    password: conn.password ?? undefined,
    ssl: extra.sslmode === 'require',
    applicationName: typeof extra.application_name === 'string' ? extra.application_name : 'orders-service',
  };
}

/**
 * Which checkout to serve. The `feature_flags` variable is JSON (`{"new_checkout": true}`); when it
 * is missing, or the secrets backend fails, the service degrades to the classic checkout.
 */
export async function checkoutMode(): Promise<'new' | 'classic'> {
  try {
    const flags = await getVariable<{ new_checkout?: unknown }, Record<string, never>>('feature_flags', {
      deserializeJson: true,
      default: {},
    });
    return flags.new_checkout === true ? 'new' : 'classic';
  } catch (e) {
    if (isBackendError(e)) return 'classic';
    throw e;
  }
}
