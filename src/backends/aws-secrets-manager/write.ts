/**
 * Listing and writing for the Secrets Manager adapter: `ListSecrets` filtered by the kind's
 * prefix (the `name` filter is a case-sensitive prefix match; names are checked here again), and
 * `CreateSecret` / `PutSecretValue` with a plaintext `SecretString` (optional `KmsKeyId` and tags
 * on creation), `DeleteSecret` with the service's recovery window. Names are those `locate` gives.
 */
import type { Lookup, SecretKind, SecretsBackend } from '../../backend.js';
import { BackendError, SecretExistsError, safeCause } from '../../errors.js';
import { mapAwsError } from '../aws/common.js';
import {
  checkPutOptions,
  emptyList,
  encodeValue,
  locateWriteWith,
  pagedList,
  prefixedName,
  refusedId,
} from '../list-write.js';
import type { KindRules } from '../naming.js';

/** The write options `put` takes (`checkPut` refuses any other before a migration plans). */
const PUT_OPTIONS = ['kmsKeyId', 'tags'] as const;

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

/** What the adapter hands over: its client, naming and prefixes. */
export interface SecretsManagerStore {
  send<T>(secretName: string, make: (sdk: Sdk) => unknown): Promise<T>;
  locate(kind: SecretKind, id: string): Lookup;
  /** Every name a lookup of `id` reads, in order (multi-team: the team's first). */
  candidates(kind: SecretKind, id: string): readonly string[];
  /** The kinds' prefixes as `locate` uses them (already stripped of `sep`); `null` = disabled. */
  rules: KindRules;
  sep: string;
  /** Multi-team: the team, whose names are `<prefix><sep><team>--<id>`. */
  team: string | undefined;
}

const BACKEND = 'aws-secrets-manager';

/** The characters Secrets Manager allows in a secret name, and its length limit. */
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** What the `name` filter value may hold (the API's pattern; a leading `!` would negate it). */
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.-]{1,512}$/;

export function secretsManagerWrites(
  s: SecretsManagerStore,
): Required<Pick<SecretsBackend, 'list' | 'put' | 'delete' | 'locateWrite' | 'checkPut'>> {
  const teamHead = s.team === undefined ? undefined : `${s.team}--`;
  const locateWrite = (kind: SecretKind, id: string) =>
    locateWriteWith(s.locate, kind, id, (name) =>
      NAME.test(name) ? null : 'Secrets Manager names allow only A-Z a-z 0-9 / _ + = . @ - (1 to 512)',
    );
  return {
    locateWrite,
    list: (kind, options) => listSecrets(s, teamHead, kind, options),
    checkPut: (_kind, options) => checkPutOptions(BACKEND, options, PUT_OPTIONS),
    put: (kind, id, value, options = {}) => putSecret(s, locateWrite, kind, id, value, options),
    async delete(kind, id) {
      const where = s.locate(kind, id);
      if (!('name' in where)) return false;
      try {
        await s.send(where.name, (sdk) => new sdk.DeleteSecretCommand({ SecretId: where.name }));
        return true;
      } catch (e) {
        // InvalidRequestException: already scheduled for deletion (what a lookup reads is gone).
        const code = (e as Error)?.name;
        if (code === 'ResourceNotFoundException' || code === 'InvalidRequestException') return false;
        throw mapAwsError(BACKEND, where.name, e, 'deleting');
      }
    },
  };
}

type ListOptions = Parameters<NonNullable<SecretsBackend['list']>>[1];
type PutOptions = NonNullable<Parameters<NonNullable<SecretsBackend['put']>>[3]>;

/** ListSecrets with the `name` filter on the kind's head, each name mapped back to its id. */
async function listSecrets(
  s: SecretsManagerStore,
  teamHead: string | undefined,
  kind: SecretKind,
  options: ListOptions,
) {
  const p = s.rules[kind].prefix;
  if (p === null) return emptyList();
  const head = p ? `${p}${s.sep}` : '';
  const filters = FILTER_VALUE.test(head) ? [{ Key: 'name' as const, Values: [head] }] : undefined;
  type Out = { SecretList?: { Name?: string }[]; NextToken?: string };
  return pagedList(
    options,
    async (token, room) => {
      const out = await s
        .send<Out>(
          head || '(all secrets)',
          (sdk) =>
            new sdk.ListSecretsCommand({
              MaxResults: Math.min(100, Math.max(1, room + 1)),
              ...(filters ? { Filters: filters } : {}),
              ...(token ? { NextToken: token } : {}),
            }),
        )
        .catch((e: unknown) => {
          throw mapAwsError(BACKEND, head || '(all secrets)', e, 'listing');
        });
      return { names: (out.SecretList ?? []).flatMap((x) => x.Name ?? []), next: out.NextToken };
    },
    (name) => prefixedName(s, kind, name, head, teamHead),
  );
}

/** CreateSecret, or (with `overwrite`, when it exists) PutSecretValue, at the name `locateWrite` gives. */
async function putSecret(
  s: SecretsManagerStore,
  locateWrite: (kind: SecretKind, id: string) => Lookup,
  kind: SecretKind,
  id: string,
  value: Parameters<NonNullable<SecretsBackend['put']>>[2],
  options: PutOptions,
): Promise<{ secretName: string; action: 'created' | 'updated' }> {
  checkPutOptions(BACKEND, options, PUT_OPTIONS);
  const where = locateWrite(kind, id);
  if (!('name' in where)) throw refusedId(BACKEND, kind, id, where.skip);
  const name = where.name;
  const text = encodeValue(kind, id, value, options.format);
  const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  try {
    await s.send(
      name,
      (sdk) =>
        new sdk.CreateSecretCommand({
          Name: name,
          SecretString: text,
          ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
          ...(tags.length ? { Tags: tags } : {}),
        }),
    );
    return { secretName: name, action: 'created' };
  } catch (e) {
    if ((e as Error)?.name === 'InvalidRequestException') throw scheduledForDeletion(BACKEND, name, e);
    if ((e as Error)?.name !== 'ResourceExistsException') throw mapAwsError(BACKEND, name, e, 'writing');
    if (!options.overwrite) throw new SecretExistsError(BACKEND, name);
  }
  try {
    await s.send(name, (sdk) => new sdk.PutSecretValueCommand({ SecretId: name, SecretString: text }));
    return { secretName: name, action: 'updated' };
  } catch (e) {
    if ((e as Error)?.name === 'InvalidRequestException') throw scheduledForDeletion(BACKEND, name, e);
    throw mapAwsError(BACKEND, name, e, 'writing');
  }
}

/** InvalidRequestException on a write: most often a secret of that name in its recovery window. */
function scheduledForDeletion(backend: string, name: string, e: unknown): BackendError {
  return new BackendError(
    backend,
    'failed',
    `${backend}: the service refused to write '${name}' (InvalidRequestException); a secret of that name may be scheduled for deletion: restore it (RestoreSecret) or wait until it is gone`,
    { cause: safeCause(e), secretName: name },
  );
}
