/**
 * `role_arn` credentials (src/backends/aws/role.ts): AssumeRole run by the library against the
 * wire-level AWS fake, cached until 5 minutes before they expire (a fake clock moves time), one STS
 * call shared by the lookups that wait for it, and cancelled (the connection closed) once every
 * lookup waiting for it has given up. The real STS client of the SDK talks to 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AssumedRole, assumedRole, REFRESH_MARGIN_MS } from '../../src/backends/aws/role.js';
import { CallCancel, InFlightCalls } from '../../src/backends/base.js';
import { type AwsFake, startAwsFake } from '../fakes/aws-fake.js';
import { closed, type HostileServer, startHostileServer } from '../fakes/hostile-http.js';

const ROLE = 'arn:aws:iam::123456789012:role/reader';
/** The Expiration the fake puts on the credentials it hands out. */
const EXPIRES = Date.parse('2099-01-01T00:00:00Z');
const CREDS = { accessKeyId: 'AKIDMASTER', secretAccessKey: 'master-secret' };

let fake: AwsFake;
const roles: AssumedRole[] = [];
beforeAll(async () => {
  fake = await startAwsFake();
});
afterAll(() => fake.close());
afterEach(() => {
  for (const r of roles.splice(0)) r.close();
  fake.reset();
});

function role(endpoint: string, now: () => number, inFlight = new InFlightCalls()): AssumedRole {
  const r = assumedRole({
    stsConfig: { region: 'us-east-1', endpoint, credentials: CREDS, maxAttempts: 3 },
    params: { RoleSessionName: 'session-1', ExternalId: 'ext-1', RoleArn: ROLE },
    inFlight,
    usedBy: 'test',
    now,
  });
  roles.push(r);
  return r;
}

describe('role_arn credentials', () => {
  it('are assumed once with the master keys and the params, then served from the cache', async () => {
    const r = role(fake.url, () => EXPIRES - REFRESH_MARGIN_MS - 60_000);
    await r.ensure(new CallCancel());
    expect(r.ensure(new CallCancel())).toBeUndefined();
    const creds = await r.provider();
    expect(creds.accessKeyId).toBe(fake.assumedCredentials.accessKeyId);
    expect(creds.sessionToken).toBe(fake.assumedCredentials.sessionToken);
    const calls = fake.requestsFor('AssumeRole');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ accessKeyId: 'AKIDMASTER', region: 'us-east-1' });
    expect(calls[0]?.body).toMatchObject({
      RoleArn: ROLE,
      RoleSessionName: 'session-1',
      ExternalId: 'ext-1',
    });
  });

  it('are fetched again once they are within 5 minutes of expiring', async () => {
    let now = EXPIRES - REFRESH_MARGIN_MS - 1;
    const r = role(fake.url, () => now);
    await r.provider();
    expect(r.ensure(new CallCancel())).toBeUndefined();
    now = EXPIRES - REFRESH_MARGIN_MS + 1;
    const again = r.ensure(new CallCancel());
    expect(again).toBeInstanceOf(Promise);
    await again;
    expect(fake.requestsFor('AssumeRole')).toHaveLength(2);
  });

  it('concurrent lookups share one STS call; one giving up does not stop it for the other', async () => {
    const r = role(fake.url, () => 0);
    const first = new CallCancel();
    const a = r.ensure(first);
    const b = r.ensure(new CallCancel());
    first.cancel();
    await Promise.all([a, b]);
    expect(fake.requestsFor('AssumeRole')).toHaveLength(1);
    expect((await r.provider()).accessKeyId).toBe(fake.assumedCredentials.accessKeyId);
  });

  describe('against an STS that never answers', () => {
    let hung: HostileServer;
    beforeAll(async () => {
      hung = await startHostileServer('silent');
    });
    afterAll(() => hung.close());

    it('the STS call is cancelled once every waiting lookup has given up', async () => {
      const r = role(hung.url, () => 0);
      const one = new CallCancel();
      const two = new CallCancel();
      const a = r.ensure(one)?.catch((e: Error) => e);
      const b = r.ensure(two)?.catch((e: Error) => e);
      const socket = await hung.connection(1);
      one.cancel();
      expect(socket.destroyed).toBe(false);
      two.cancel();
      await closed(socket);
      expect(await a).toBeInstanceOf(Error);
      expect(await b).toBeInstanceOf(Error);
      expect(hung.connections).toHaveLength(1);
    });

    it("the backend's close() (cancelAll) cancels it too", async () => {
      const inFlight = new InFlightCalls();
      const r = role(hung.url, () => 0, inFlight);
      const pending = r.provider().catch((e: Error) => e);
      const socket = await hung.connection(hung.connections.length + 1);
      inFlight.cancelAll();
      r.close();
      await closed(socket);
      expect(await pending).toBeInstanceOf(Error);
    });
  });
});
