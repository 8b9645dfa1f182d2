// Picks the metadata column from the config: SQLite unless FERRY_DATABASE_URL names PostgreSQL.
import type { Config } from '../config.ts';
import type { MetaStore } from './meta-store.ts';
import { openSqliteMetaStore } from './sql/sqlite.ts';
import { withTypedErrors } from './typed-errors.ts';

/**
 * onError hears about database trouble that belongs to no request (a dropped idle connection).
 * Storage failures of the returned store are StorageErrors (typed-errors.ts).
 */
export async function openMetaStore(config: Config, onError?: (err: Error) => void, opts: OpenOptions = {}): Promise<MetaStore> {
  const store = withTypedErrors(await openRawMetaStore(config, onError, opts.sharedSqlite ?? false));
  try {
    if (opts.migrate ?? true) await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}

export interface OpenOptions {
  /** false: a worker, whose primary migrated the database before it started (default true) */
  migrate?: boolean;
  /**
   * Several worker processes use the SQLite file at once (FERRY_WORKERS > 1): the store then
   * says it is shared, so no process gives back upload claims it does not know to be dead and
   * single flight goes through the database (PostgreSQL is always shared).
   */
  sharedSqlite?: boolean;
}

async function openRawMetaStore(config: Config, onError: ((err: Error) => void) | undefined, sharedSqlite: boolean): Promise<MetaStore> {
  // The PostgreSQL driver is loaded only when it is configured (memory of embedded nodes).
  return config.databaseUrl
    ? (await import('./sql/postgres.ts')).openPostgresMetaStore(config.databaseUrl, { onError })
    : openSqliteMetaStore(config.dataDir, sharedSqlite);
}
