/**
 * A backend whose answers wait until the test releases them, so lookups really overlap, and which
 * records every call with the `options.signal` it was handed. Each call reads the value when it is
 * made and answers it when released; values can change between calls (`values.variables.k = …`);
 * `failWith` makes the next releases fail.
 */
import type { SecretKind, SecretsBackend } from '../../src/backend.js';
import { Connection } from '../../src/connection.js';

export interface GatedCall {
  kind: SecretKind;
  id: string;
  signal: AbortSignal | undefined;
  /** Released (the value it answers with was read when it was called). */
  settled: boolean;
}

export interface GatedValues {
  variables: Record<string, string>;
  connections: Record<string, string>;
}

export function gated(name: string, init: Partial<GatedValues> = {}) {
  const values: GatedValues = { variables: { ...init.variables }, connections: { ...init.connections } };
  const calls: GatedCall[] = [];
  const waiting: Array<() => void> = [];
  let failure: (() => unknown) | null = null;
  const wait = <T>(
    kind: SecretKind,
    id: string,
    signal: AbortSignal | undefined,
    answer: () => T,
  ): Promise<T> => {
    const call: GatedCall = { kind, id, signal, settled: false };
    calls.push(call);
    const value = answer(); // read now: the answer is what the source held when it was asked
    return new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        call.settled = true;
        if (failure) reject(failure());
        else resolve(value);
      });
    });
  };
  const backend: SecretsBackend = {
    name,
    locate: (_k, id) => ({ name: `${name}/${id}` }),
    getVariable: (key, o) => wait('variable', key, o?.signal, () => values.variables[key] ?? null),
    getConnection: (id, o) =>
      wait('connection', id, o?.signal, () => {
        const uri = values.connections[id];
        return uri === undefined ? null : Connection.fromUri(uri, id);
      }),
  };
  return {
    backend,
    calls,
    values,
    pending: () => waiting.length,
    failWith(f: (() => unknown) | null) {
      failure = f;
    },
    /** Settle every call made so far, then let the resolver move on. */
    async release() {
      for (const w of waiting.splice(0)) w();
      await new Promise((r) => setImmediate(r));
    },
  };
}

export type Gated = ReturnType<typeof gated>;

/** Let every pending promise callback run (a few turns of the event loop). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

/** Release the backends until `all` has settled. */
export async function drain<T>(all: Promise<T>, ...backends: Gated[]): Promise<T> {
  let done = false;
  const watched = all.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 50 && !done; i++) {
    for (const b of backends) await b.release();
  }
  return all;
}
