/**
 * Call recording: wrap a backend and see which ids were asked of it, how often, and what came back.
 */
import type { SecretKind, SecretsBackend } from '../backend.js';

export type RecordedMethod = 'getConnection' | 'getVariable' | 'getConfig' | 'getMany';

/** One call to a recorded backend. `outcome` is filled in when the call settles. */
export interface RecordedCall {
  /** The wrapped backend's name. */
  backend: string;
  method: RecordedMethod;
  kind: SecretKind;
  /** The id asked for (for `getMany`, one record per id). */
  id: string;
  outcome: 'pending' | 'found' | 'not-found' | 'error';
}

export interface RecordedBackend extends SecretsBackend {
  /** Every call so far, in order. */
  readonly calls: readonly RecordedCall[];
  /** How many times `id` of `kind` was asked (single and batch reads). */
  count(kind: SecretKind, id: string): number;
  /** Forget the calls recorded so far. */
  reset(): void;
}

const KIND: Record<Exclude<RecordedMethod, 'getMany'>, SecretKind> = {
  getConnection: 'connection',
  getVariable: 'variable',
  getConfig: 'config',
};

/**
 * A backend that behaves exactly like `backend` (same name, same answers and errors, same optional
 * methods) and records each lookup.
 *
 * ```ts
 * const vault = recordCalls(memory({ name: 'vault', variables: { flag: 'on' } }));
 * await createResolver({ backends: [vault], cache: true }).getVariable('flag');
 * expect(vault.count('variable', 'flag')).toBe(1);
 * ```
 */
export function recordCalls<B extends SecretsBackend>(backend: B): RecordedBackend {
  const calls: RecordedCall[] = [];
  const track = async <T>(
    records: RecordedCall[],
    run: () => Promise<T>,
    found: (v: T, id: string) => boolean,
  ) => {
    calls.push(...records);
    try {
      const v = await run();
      for (const r of records) r.outcome = found(v, r.id) ? 'found' : 'not-found';
      return v;
    } catch (e) {
      for (const r of records) r.outcome = 'error';
      throw e;
    }
  };
  const single = (method: Exclude<RecordedMethod, 'getMany'>, id: string) => {
    const record: RecordedCall = {
      backend: backend.name,
      method,
      kind: KIND[method],
      id,
      outcome: 'pending',
    };
    return <T>(run: () => Promise<T>) => track([record], run, (v) => v !== null && v !== undefined);
  };
  const wrapped: RecordedBackend = {
    name: backend.name,
    calls,
    count: (kind, id) => calls.filter((c) => c.kind === kind && c.id === id).length,
    reset: () => void calls.splice(0),
    locate: (kind, id) => backend.locate(kind, id),
    getConnection: (id, o) => single('getConnection', id)(() => backend.getConnection(id, o)),
    getVariable: (key, o) => single('getVariable', key)(() => backend.getVariable(key, o)),
  };
  if (backend.getConfig) {
    const getConfig = backend.getConfig.bind(backend);
    wrapped.getConfig = (key, o) => single('getConfig', key)(() => getConfig(key, o));
  }
  if (backend.getMany) {
    const getMany = backend.getMany.bind(backend);
    wrapped.getMany = (kind, ids, o) =>
      track(
        ids.map((id) => ({
          backend: backend.name,
          method: 'getMany' as const,
          kind,
          id,
          outcome: 'pending' as const,
        })),
        () => getMany(kind, ids, o),
        (m, id) => m.get(id) !== null && m.get(id) !== undefined,
      );
  }
  if (backend.close) wrapped.close = backend.close.bind(backend);
  return wrapped;
}
