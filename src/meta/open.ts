// Picks the metadata column from the config: SQLite unless FERRY_DATABASE_URL names PostgreSQL.
import type { Config } from '../config.ts';
import type { MetaStore } from './meta-store.ts';
import { openSqliteMetaStore } from './sql/sqlite.ts';

export async function openMetaStore(config: Config): Promise<MetaStore> {
  if (config.databaseUrl) {
    throw new Error('FERRY_DATABASE_URL (PostgreSQL) is not supported yet: unset it to use SQLite in the data folder');
  }
  const store = openSqliteMetaStore(config.dataDir);
  await store.migrate();
  return store;
}
