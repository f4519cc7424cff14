/**
 * `role_arn`: STS AssumeRole run by this library, not inside the SDK's credential resolution
 * (which gets no abort signal, so a hung STS kept retrying after the lookup settled and after
 * `close()`). The role's credentials are cached and fetched again {@link REFRESH_MARGIN_MS} before
 * they expire; a fetch is one STS call whose {@link CallCancel} is tracked with the backend's other
 * calls (so `close()` cancels it) and is cancelled when every lookup waiting for it has settled.
 * With fresh credentials cached, a call pays one clock read.
 */
import { createRequire } from 'node:module';
import { MissingDependencyError } from '../../errors.js';
import { importOptional } from '../../optional-import.js';
import type { CallCancel as CallCancelType, InFlightCalls } from '../base.js';
import { CallCancel } from '../base.js';

type Sts = typeof import('@aws-sdk/nested-clients/sts');
type Identity = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };

/** Credentials this close to their expiry are fetched again (the SDK's own margin, 5 minutes). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export interface AssumedRole {
  /** The credentials provider given to the service client: the cached credentials, fetched if none. */
  provider: () => Promise<Identity>;
  /**
   * Nothing when the cached credentials are fresh; else a promise of fresh ones, given up (and the
   * STS call cancelled once no other call waits for it) when `cancel` fires.
   */
  ensure(cancel: CallCancelType): Promise<void> | undefined;
  /** Destroy the STS client (the backend's `close()`, after cancelling the calls in flight). */
  close(): void;
}

export interface AssumedRoleArgs {
  /** The STS client configuration (region, master credentials, endpoint, request handler). */
  stsConfig: Record<string, unknown>;
  /** AssumeRole's parameters (`RoleArn`, `RoleSessionName`, `ExternalId`, `DurationSeconds`, …). */
  params: Record<string, unknown>;
  inFlight: InFlightCalls;
  usedBy: string;
  now?: () => number;
}

export function assumedRole(args: AssumedRoleArgs): AssumedRole {
  const now = args.now ?? Date.now;
  let cached: Identity | undefined;
  let client: InstanceType<Sts['STSClient']> | undefined;
  let pending: { done: Promise<void>; cancel: CallCancel; waiters: number } | undefined;
  const fresh = () =>
    cached !== undefined &&
    (cached.expiration === undefined || cached.expiration.getTime() - now() > REFRESH_MARGIN_MS);

  const fetch = async (cancel: CallCancel): Promise<void> => {
    const sts = await loadSts(args.usedBy);
    client ??= new sts.STSClient(args.stsConfig as never);
    const out = await client.send(new sts.AssumeRoleCommand(args.params as never), {
      abortSignal: cancel as never,
    });
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) {
      throw Object.assign(new Error('STS AssumeRole answered without credentials'), {
        name: 'CredentialsProviderError',
      });
    }
    cached = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  };
  const start = () => {
    const cancel = new CallCancel();
    const done = args.inFlight.track(cancel, fetch(cancel));
    const p = { done, cancel, waiters: 0 };
    const clear = () => {
      if (pending === p) pending = undefined;
    };
    done.then(clear, clear);
    return p;
  };
  const ensure = (cancel: CallCancelType): Promise<void> | undefined => {
    if (fresh()) return undefined;
    const p = (pending ??= start());
    p.waiters += 1;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      p.waiters -= 1;
      if (p.waiters === 0) p.cancel.cancel();
    };
    const off = cancel.onCancel(leave);
    const stay = () => {
      off();
      if (left) return;
      left = true;
      p.waiters -= 1;
    };
    return p.done.finally(stay);
  };
  return {
    ensure,
    provider: async () => {
      await ensure(new CallCancel());
      return cached as Identity;
    },
    close: () => {
      pending?.cancel.cancel();
      pending = undefined;
      cached = undefined;
      client?.destroy();
      client = undefined;
    },
  };
}

/**
 * The STS client of `@aws-sdk/nested-clients` (a dependency of `@aws-sdk/credential-providers`,
 * which `role_arn` needs anyway): imported by name, else resolved from where the credential
 * providers are installed (strict layouts such as pnpm's do not hoist it).
 */
function loadSts(usedBy: string): Promise<Sts> {
  return importOptional<Sts>('@aws-sdk/nested-clients/sts', usedBy, async () => {
    try {
      return await import('@aws-sdk/nested-clients/sts');
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
      try {
        const local = createRequire(import.meta.url);
        return createRequire(local.resolve('@aws-sdk/credential-providers'))('@aws-sdk/nested-clients/sts');
      } catch (cause) {
        // What to install is the package role_arn is documented to need.
        throw new MissingDependencyError('@aws-sdk/credential-providers', usedBy, { cause });
      }
    }
  });
}
