/**
 * Backend calls for a mixed workload, counted from the AWS fake's request log: ids found in Secrets
 * Manager, ids only in the environment, ids nowhere; 64 lookups at a time; repeated rounds. The same
 * workload runs through this library (several configurations), through Powertools' cached
 * `SecretsProvider.get` (falling back to the environment on "not found", as an application would),
 * and through a model of Airflow's `get_connection` (cache off: every lookup asks the backend; cache
 * on: answers are cached, misses of connections are not).
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsSecretsManager } from '../src/backends/aws-secrets-manager/index.js';
import { environmentVariables } from '../src/backends/environment.js';
import { silentLogger } from '../src/logger.js';
import { createResolver } from '../src/resolver/index.js';
import type { AwsFake } from '../test/fakes/aws-fake.js';

export const IDS_PER_GROUP = 20;
export const CONCURRENCY = 64;
export const ROUNDS = 5;
export const REPEATS_PER_ROUND = 4;

export interface WorkloadRow {
  name: string;
  lookups: number;
  calls: number;
  /** Distinct ids per TTL window times windows: what a perfect cache costs (null: no cache, not applicable). */
  ideal: number | null;
  note: string;
}

export interface CoalescingRow {
  name: string;
  simultaneous: number;
  calls: number;
}

const ids = (group: string) => Array.from({ length: IDS_PER_GROUP }, (_, i) => `${group}_${i}`);
export const IN_AWS = ids('aws');
export const IN_ENV = ids('env');
export const NOWHERE = ids('none');
const ALL = [...IN_AWS, ...IN_ENV, ...NOWHERE];

export function seed(fake: AwsFake): Record<string, string> {
  for (const id of IN_AWS) fake.secrets.set(`airflow/connections/${id}`, `postgres://u:p@${id}.db:5432/app`);
  fake.secrets.set('airflow/variables/api_key', 'bench-api-key-value');
  fake.secrets.set('airflow/variables/feature_flags', '{"beta": true, "max_rows": 5000}');
  fake.secrets.set('airflow/connections/warehouse', 'postgres://etl:pw@warehouse:5432/dw?sslmode=require');
  return Object.fromEntries(
    IN_ENV.map((id) => [`AIRFLOW_CONN_${id.toUpperCase()}`, `mysql://u:p@${id}.env/db`]),
  );
}

/** A deterministic shuffle (so every strategy sees the same order). */
function shuffled<T>(xs: T[], seedValue: number): T[] {
  const out = [...xs];
  let s = seedValue;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function runRounds(
  lookup: (id: string) => Promise<unknown>,
  between?: (round: number) => void,
): Promise<number> {
  let lookups = 0;
  for (let round = 0; round < ROUNDS; round++) {
    between?.(round);
    const queue = shuffled(Array.from({ length: REPEATS_PER_ROUND }, () => ALL).flat(), round + 1);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < queue.length) {
          await lookup(queue[next++]!);
          lookups++;
        }
      }),
    );
  }
  return lookups;
}

const smCalls = (fake: AwsFake) =>
  fake.requests.filter(
    (r) => r.target === 'secretsmanager.GetSecretValue' || r.target === 'secretsmanager.BatchGetSecretValue',
  ).length;

export async function workload(fake: AwsFake, env: Record<string, string>): Promise<WorkloadRow[]> {
  const clientConfig = {
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    maxAttempts: 1,
  };
  const rows: WorkloadRow[] = [];
  const measure = async (
    name: string,
    note: string,
    ideal: number | null,
    run: () => Promise<number>,
  ): Promise<void> => {
    fake.requests.length = 0;
    const lookups = await run();
    rows.push({ name, lookups, calls: smCalls(fake), ideal, note });
  };
  const ours = (cache: boolean | { ttl: number; now: () => number }) => {
    const client = new SecretsManagerClient(clientConfig);
    const r = createResolver({
      backends: [awsSecretsManager({ client, logger: silentLogger }), environmentVariables({ env })],
      cache,
      logger: silentLogger,
    });
    return { r, client };
  };

  await measure(
    'airflow-secrets, cache on (900 s)',
    'one call per distinct id, misses included',
    ALL.length,
    async () => {
      const { r, client } = ours(true);
      const n = await runRounds((id) => r.getConnection(id));
      client.destroy();
      return n;
    },
  );

  let t = 0;
  await measure(
    'airflow-secrets, cache on, 2 TTL windows',
    'TTL (+10% jitter) passes between rounds 3 and 4 (injected clock)',
    2 * ALL.length,
    async () => {
      const { r, client } = ours({ ttl: 900, now: () => t });
      const n = await runRounds(
        (id) => r.getConnection(id),
        (round) => {
          if (round === 3) t += 990_000; // past the TTL with the default ±10% jitter
        },
      );
      client.destroy();
      return n;
    },
  );

  await measure(
    'airflow-secrets, cache on + prefetch',
    'prefetch: BatchGetSecretValue, 20 ids a call',
    Math.ceil(ALL.length / 20),
    async () => {
      const { r, client } = ours(true);
      await r.prefetch({ connections: ALL });
      const n = await runRounds((id) => r.getConnection(id));
      client.destroy();
      return n;
    },
  );

  await measure(
    'airflow-secrets, cache off (Airflow default)',
    'no cache: coalescing only',
    null,
    async () => {
      const { r, client } = ours(false);
      const n = await runRounds((id) => r.getConnection(id));
      client.destroy();
      return n;
    },
  );

  await measure(
    'Powertools getSecret (cached) + env fallback',
    'not-found is thrown and not cached; no coalescing',
    ALL.length,
    async () => {
      const client = new SecretsManagerClient(clientConfig);
      const provider = new SecretsProvider({ awsSdkV3Client: client });
      const n = await runRounds(async (id) => {
        try {
          return await provider.get(`airflow/connections/${id}`, { maxAge: 900 });
        } catch {
          return env[`AIRFLOW_CONN_${id.toUpperCase()}`] ?? null;
        }
      });
      client.destroy();
      return n;
    },
  );

  for (const cacheOn of [false, true]) {
    await measure(
      `Airflow model, cache ${cacheOn ? 'on' : 'off'}`,
      cacheOn ? 'answers cached, connection misses not remembered' : 'one backend call per lookup',
      cacheOn ? ALL.length : null,
      async () => {
        const client = new SecretsManagerClient(clientConfig);
        const cache = new Map<string, string>();
        const n = await runRounds(async (id) => {
          const hit = cacheOn ? cache.get(id) : undefined;
          if (hit) return hit;
          let value: string | undefined;
          try {
            const out = await client.send(
              new GetSecretValueCommand({ SecretId: `airflow/connections/${id}` }),
            );
            value = out.SecretString;
          } catch (e) {
            if ((e as Error).name !== 'ResourceNotFoundException') throw e;
          }
          value ??= env[`AIRFLOW_CONN_${id.toUpperCase()}`];
          if (value && cacheOn) cache.set(id, value);
          return value ?? null;
        });
        client.destroy();
        return n;
      },
    );
  }
  return rows;
}

/** N simultaneous lookups of one id that nothing has cached yet. */
export async function coalescing(
  fake: AwsFake,
  env: Record<string, string>,
  n: number,
): Promise<CoalescingRow[]> {
  const clientConfig = {
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    maxAttempts: 1,
  };
  const rows: CoalescingRow[] = [];
  const count = async (name: string, run: () => Promise<unknown>) => {
    fake.requests.length = 0;
    await run();
    rows.push({ name, simultaneous: n, calls: smCalls(fake) });
  };
  for (const cache of [false, true]) {
    for (const id of [IN_AWS[0]!, NOWHERE[0]!]) {
      await count(
        `airflow-secrets, cache ${cache ? 'on' : 'off'}, id ${id.startsWith('aws') ? 'found' : 'nowhere'}`,
        async () => {
          const client = new SecretsManagerClient(clientConfig);
          const r = createResolver({
            backends: [awsSecretsManager({ client, logger: silentLogger }), environmentVariables({ env })],
            cache,
            logger: silentLogger,
          });
          await Promise.all(Array.from({ length: n }, () => r.getConnection(id)));
          client.destroy();
        },
      );
    }
  }
  await count('Powertools getSecret (cached), id found', async () => {
    const client = new SecretsManagerClient(clientConfig);
    const provider = new SecretsProvider({ awsSdkV3Client: client });
    await Promise.all(Array.from({ length: n }, () => provider.get(`airflow/connections/${IN_AWS[0]}`)));
    client.destroy();
  });
  return rows;
}
