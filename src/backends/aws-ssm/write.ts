/**
 * Listing and writing for the SSM Parameter Store adapter: `GetParametersByPath` (recursive, no
 * decryption: only the names are kept) under the kind's prefix, `PutParameter` (`SecureString` by
 * default, overwriting only when asked; tier and KMS key options; tags only on creation, as the
 * service allows) and `DeleteParameter`. Names are those `locate` gives.
 */
import type { ListOptions, ListResult, Lookup, SecretKind, SecretsBackend } from '../../backend.js';
import { ConfigurationError, SecretExistsError } from '../../errors.js';
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
const PUT_OPTIONS = ['kmsKeyId', 'tags', 'tier', 'parameterType'] as const;

type Sdk = typeof import('@aws-sdk/client-ssm');

/** What the adapter hands over: its client, naming and prefixes. */
export interface ParameterStore {
  send<T>(name: string, make: (sdk: Sdk) => unknown): Promise<T>;
  locate(kind: SecretKind, id: string): Lookup;
  /** Every name a lookup of `id` reads, in order (multi-team: the team's first). */
  candidates(kind: SecretKind, id: string): readonly string[];
  /** The kinds' prefixes as `locate` uses them (trailing `/` stripped); `null` = disabled. */
  rules: KindRules;
  /** Multi-team: the team, whose names are `/<prefix>/<team>--<id>`. */
  team: string | undefined;
}

const BACKEND = 'aws-ssm';

/** The characters a parameter name may hold, and its length limit (path included). */
const NAME = /^[a-zA-Z0-9_./-]{1,1011}$/;

export function parameterStoreWrites(
  s: ParameterStore,
): Required<Pick<SecretsBackend, 'list' | 'put' | 'delete' | 'locateWrite' | 'checkPut'>> {
  const locateWrite = (kind: SecretKind, id: string) =>
    locateWriteWith(s.locate, kind, id, (name) =>
      NAME.test(name) ? null : 'parameter names allow only a-z A-Z 0-9 _ . - / (1 to 1011)',
    );
  return {
    locateWrite,
    list: (kind, options) => listParameters(s, kind, options),
    checkPut: (_kind, options) => checkPutOptions(BACKEND, options, PUT_OPTIONS),
    async put(kind, id, value, options = {}) {
      checkPutOptions(BACKEND, options, PUT_OPTIONS);
      const where = locateWrite(kind, id);
      if (!('name' in where)) throw refusedId(BACKEND, kind, id, where.skip);
      const name = where.name;
      const type = options.parameterType ?? 'SecureString';
      if (options.kmsKeyId && type !== 'SecureString') {
        throw new ConfigurationError(
          'kmsKeyId',
          `${BACKEND}: kmsKeyId applies to SecureString parameters only`,
        );
      }
      const text = encodeValue(kind, id, value, options.format);
      if (text === '') throw refusedId(BACKEND, kind, id, 'a parameter cannot hold an empty value');
      const input = {
        Name: name,
        Value: text,
        Type: type,
        ...(options.kmsKeyId ? { KeyId: options.kmsKeyId } : {}),
        ...(options.tier ? { Tier: options.tier } : {}),
      };
      const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      try {
        await s.send(
          name,
          (sdk) => new sdk.PutParameterCommand({ ...input, ...(tags.length ? { Tags: tags } : {}) }),
        );
        return { secretName: name, action: 'created' };
      } catch (e) {
        if ((e as Error)?.name !== 'ParameterAlreadyExists') throw mapAwsError(BACKEND, name, e, 'writing');
        if (!options.overwrite) throw new SecretExistsError(BACKEND, name);
      }
      try {
        // The service takes no tags with Overwrite: the existing parameter keeps its own.
        await s.send(name, (sdk) => new sdk.PutParameterCommand({ ...input, Overwrite: true }));
        return { secretName: name, action: 'updated' };
      } catch (e) {
        throw mapAwsError(BACKEND, name, e, 'writing');
      }
    },
    async delete(kind, id) {
      const where = s.locate(kind, id);
      if (!('name' in where)) return false;
      try {
        await s.send(where.name, (sdk) => new sdk.DeleteParameterCommand({ Name: where.name }));
        return true;
      } catch (e) {
        if ((e as Error)?.name === 'ParameterNotFound') return false;
        throw mapAwsError(BACKEND, where.name, e, 'deleting');
      }
    },
  };
}

/** `GetParametersByPath` under the kind's prefix: recursive, 10 a page, names only. */
async function listParameters(
  s: ParameterStore,
  kind: SecretKind,
  options: ListOptions | undefined,
): Promise<ListResult> {
  const p = s.rules[kind].prefix;
  if (p === null) return emptyList();
  // The names `locate` builds: `/<prefix>/<id>`, a leading `/` added when missing.
  const head = p === '' ? '/' : `${p.startsWith('/') ? p : `/${p}`}/`;
  const path = head === '/' ? '/' : head.slice(0, -1);
  type Out = { Parameters?: { Name?: string }[]; NextToken?: string };
  return pagedList(
    options,
    async (token) => {
      const out = await s
        .send<Out>(
          path,
          (sdk) =>
            new sdk.GetParametersByPathCommand({
              Path: path,
              Recursive: true,
              WithDecryption: false,
              MaxResults: 10,
              ...(token ? { NextToken: token } : {}),
            }),
        )
        .catch((e: unknown) => {
          throw mapAwsError(BACKEND, path, e, 'listing');
        });
      return { names: (out.Parameters ?? []).flatMap((x) => x.Name ?? []), next: out.NextToken };
    },
    (name) => prefixedName(s, kind, name, head, s.team === undefined ? undefined : `${s.team}--`),
  );
}
