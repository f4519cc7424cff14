/** Small assertion helpers shared by the test files. */

/** The error `p` rejects with; throws (failing the test) if `p` fulfils. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}
