/**
 * Install a test resolver as the default one (the one behind the top-level `getConnection`,
 * `getVariable`, ...) for the duration of a test, then put the previous default back.
 */
import { getDefaultResolver, resetDefaultResolver, setDefaultResolver } from '../default.js';
import { ConfigurationError } from '../errors.js';
import { createResolver, type Resolver, type ResolverOptions } from '../resolver/index.js';

/** A resolver, options for `createResolver`, or a function making either (called once per test, so state is fresh). */
export type TestResolverSource =
  | Resolver
  | ResolverOptions
  | (() => Resolver | ResolverOptions | Promise<Resolver | ResolverOptions>);

/** The `beforeEach`/`afterEach` of your test runner (vitest, jest, `node:test`, mocha). */
export interface TestHooks {
  beforeEach(fn: () => Promise<void> | void): unknown;
  afterEach(fn: () => Promise<void> | void): unknown;
}

export interface TestResolverHandle {
  /** The resolver installed for the running test (throws outside a test). */
  readonly resolver: Resolver;
}

function isResolver(x: Resolver | ResolverOptions): x is Resolver {
  return typeof (x as Resolver).getConnectionOrThrow === 'function';
}

/** Resolve the source; `owned` says whether we built it (and so must close it). */
async function build(source: TestResolverSource): Promise<{ resolver: Resolver; owned: boolean }> {
  const made = typeof source === 'function' ? await source() : source;
  return isResolver(made)
    ? { resolver: made, owned: false }
    : { resolver: createResolver(made), owned: true };
}

/** Swap the default resolver; the returned function restores the previous one. */
function install(resolver: Resolver): () => Promise<void> {
  const previous = resetDefaultResolver();
  setDefaultResolver(resolver);
  return async () => {
    resetDefaultResolver();
    if (!previous) return;
    try {
      setDefaultResolver(await previous);
    } catch {
      // The previous default had failed to build: leave it unset, the next lookup builds it again.
    }
  };
}

/**
 * Before each test, install a resolver (built from `source`) as the default; after it, close it (if
 * built here) and restore the previous default. Not for tests that run concurrently in one file.
 *
 * ```ts
 * import { beforeEach, afterEach } from 'vitest'; // or 'node:test'
 * const t = useTestResolver(() => ({ backends: [memory({ variables: { flag: 'on' } })] }), { beforeEach, afterEach });
 * ```
 */
export function useTestResolver(source: TestResolverSource, hooks?: TestHooks): TestResolverHandle {
  const h = hooks ?? (globalThis as Partial<TestHooks>);
  if (typeof h.beforeEach !== 'function' || typeof h.afterEach !== 'function') {
    throw new ConfigurationError(
      'hooks',
      'useTestResolver needs your test runner hooks: useTestResolver(source, { beforeEach, afterEach })',
    );
  }
  let active: { resolver: Resolver; owned: boolean; restore: () => Promise<void> } | undefined;
  h.beforeEach(async () => {
    const built = await build(source);
    active = { ...built, restore: install(built.resolver) };
  });
  h.afterEach(async () => {
    const done = active;
    active = undefined;
    if (!done) return;
    await done.restore();
    if (done.owned) await done.resolver.close();
  });
  return {
    get resolver() {
      if (!active) throw new Error('useTestResolver: no test is running');
      return active.resolver;
    },
  };
}

/**
 * Run `fn` with a resolver (built from `source`) installed as the default, then restore the previous
 * default (and close the resolver if built here), whether `fn` succeeds or throws.
 *
 * ```ts
 * await withTestResolver({ backends: [memory({ variables: { flag: 'on' } })] }, async () => {
 *   expect(await getVariable('flag')).toBe('on');
 * });
 * ```
 */
export async function withTestResolver<T>(
  source: TestResolverSource,
  fn: (resolver: Resolver) => Promise<T> | T,
): Promise<T> {
  const { resolver, owned } = await build(source);
  const restore = install(resolver);
  try {
    return await fn(resolver);
  } finally {
    await restore();
    if (owned) await resolver.close();
  }
}

/** The default resolver in place right now (built from `process.env` if none was set). */
export { getDefaultResolver };
