/**
 * The service's secret sources mocked with `airflow-secrets/testing` (in your code, import from
 * 'airflow-secrets/testing'): Airflow-format fixtures, a test resolver installed as the default for
 * each test, fault injection and call recording.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectionNotFoundError, silentLogger } from '../../src/index.js';
import {
  fromFixtures,
  memory,
  recordCalls,
  useTestResolver,
  withFaults,
  withTestResolver,
} from '../../src/testing/index.js';
import { checkoutMode, ordersDbConfig } from './service.js';

const fixtures = join(import.meta.dirname, 'fixtures');

describe('orders service with fixture secrets', () => {
  // A fresh resolver (and fresh recorded backend) for every test, restored afterwards.
  let vault: ReturnType<typeof recordCalls>;
  const t = useTestResolver(
    () => {
      vault = recordCalls(
        fromFixtures({
          name: 'vault',
          connections: join(fixtures, 'connections.yaml'),
          variables: join(fixtures, 'variables.json'),
        }),
      );
      return { backends: [vault], cache: true, logger: silentLogger };
    },
    { beforeEach, afterEach },
  );

  it('builds the DB client config from the orders_db connection', async () => {
    expect(await ordersDbConfig()).toEqual({
      host: 'orders.db.internal',
      port: 5432,
      database: 'orders',
      user: 'orders_app',
      password: 'fixture-password',
      ssl: true,
      applicationName: 'orders-api',
    });
  });

  it('asks the secrets backend once thanks to the resolver cache', async () => {
    await ordersDbConfig();
    await ordersDbConfig();
    await ordersDbConfig();
    expect(vault.count('connection', 'orders_db')).toBe(1);
  });

  it('serves the new checkout when the flag is on', async () => {
    expect(await checkoutMode()).toBe('new');
    expect((await t.resolver.explain('variable', 'feature_flags')).source).toBe('vault');
  });
});

describe('orders service when sources are missing or failing', () => {
  it('throws ConnectionNotFoundError when orders_db is defined nowhere', async () => {
    await withTestResolver({ backends: [memory()], logger: silentLogger }, async () => {
      await expect(ordersDbConfig()).rejects.toBeInstanceOf(ConnectionNotFoundError);
    });
  });

  it('falls back to the classic checkout when the flag is missing', async () => {
    await withTestResolver({ backends: [memory({ variables: {} })], logger: silentLogger }, async () => {
      expect(await checkoutMode()).toBe('classic');
    });
  });

  it('reads the environment fallback when the secrets backend is throttled (Airflow walks on)', async () => {
    const vault = recordCalls(withFaults(memory({ name: 'vault' }), { fault: 'throttled' }));
    const env = recordCalls(
      memory({
        name: 'environment',
        connections: { orders_db: 'postgres://app:pw@fallback-db:5432/orders' },
      }),
    );
    await withTestResolver({ backends: [vault, env], logger: silentLogger }, async (resolver) => {
      expect((await ordersDbConfig()).host).toBe('fallback-db');
      expect(vault.calls.map((c) => c.outcome)).toEqual(['error']);
      const steps = (await resolver.explain('connection', 'orders_db')).steps;
      expect(steps.map((s) => [s.backend, s.outcome, s.reason])).toEqual([
        ['vault', 'error', 'throttled'],
        ['environment', 'found', undefined],
      ]);
    });
  });

  it("degrades to the classic checkout when the backend fails and the policy is 'throw'", async () => {
    const vault = withFaults(
      memory({ name: 'vault', variables: { feature_flags: '{"new_checkout": true}' } }),
      {
        fault: 'unavailable',
        rate: 1,
      },
    );
    await withTestResolver({ backends: [vault], onBackendError: 'throw', logger: silentLogger }, async () => {
      expect(await checkoutMode()).toBe('classic');
    });
    vault.configure({ rate: 0 });
    await withTestResolver({ backends: [vault], onBackendError: 'throw', logger: silentLogger }, async () => {
      expect(await checkoutMode()).toBe('new');
    });
  });

  it('never hangs on a stuck backend: the resolver deadline ends the lookup', async () => {
    const stuck = withFaults(memory({ name: 'vault' }), { fault: 'hang' });
    const env = memory({ name: 'environment', variables: { feature_flags: '{"new_checkout": false}' } });
    await withTestResolver(
      { backends: [stuck, env], backendTimeoutMs: 50, logger: silentLogger },
      async () => {
        expect(await checkoutMode()).toBe('classic');
      },
    );
  });
});
