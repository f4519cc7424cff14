/**
 * Starts the servers integration tests need (PostgreSQL, MariaDB) once per run and stops them.
 * Owned by the metastore work; a no-op until then.
 */
export async function setup(): Promise<void> {}
export async function teardown(): Promise<void> {}
