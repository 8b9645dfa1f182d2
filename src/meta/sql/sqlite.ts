// The embedded column: one SQLite file in the data folder, in WAL mode so downloads read while
// uploads write.
import path from 'node:path';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.ts';
import { SqlMetaStore } from './sql-meta-store.ts';

export function openSqliteMetaStore(dataDir: string): SqlMetaStore {
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new SQLite(path.join(dataDir, 'ferry.sqlite'));
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  // Slot inserts touch random pages (ids are random); a bigger WAL (~40 MB) before each
  // checkpoint lets the many writes to one page collapse into one copy: ~40% less work per slot.
  sqlite.pragma('wal_autocheckpoint = 10000');
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  // One process owns the data folder (its disk store is not shared either).
  return new SqlMetaStore(db, false);
}

/**
 * kysely prepares every query anew; preparing costs more than running Ferry's small queries. Its
 * SQL text is built from a fixed set of query shapes (values are bound parameters), so caching
 * statements by text stays small.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (cache.size < 500) cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
