/**
 * The same kit under Node's own test runner. Run: node --import tsx --test examples/testing-with-vitest/service.node-test.ts
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '../../src/index.js';
import { memory, useTestResolver, withFaults, withTestResolver } from '../../src/testing/index.js';
import { checkoutMode, ordersDbConfig } from './service.js';

describe('orders service (node:test)', () => {
  useTestResolver(
    () => ({
      backends: [
        memory({
          connections: { orders_db: 'postgres://app:pw@node-test-db:6432/orders?sslmode=require' },
          variables: { feature_flags: '{"new_checkout": true}' },
        }),
      ],
      logger: silentLogger,
    }),
    { beforeEach, afterEach },
  );

  it('builds the DB client config', async () => {
    const cfg = await ordersDbConfig();
    assert.equal(cfg.host, 'node-test-db');
    assert.equal(cfg.port, 6432);
    assert.equal(cfg.ssl, true);
  });

  it('reads the feature flag', async () => {
    assert.equal(await checkoutMode(), 'new');
  });

  it('degrades when the backend is unavailable', async () => {
    const down = withFaults(memory({ name: 'vault' }), { fault: 'unavailable' });
    await withTestResolver({ backends: [down], onBackendError: 'throw', logger: silentLogger }, async () => {
      assert.equal(await checkoutMode(), 'classic');
    });
  });
});
