// The embedded column: one SQLite file in the data folder, in WAL mode so downloads read while
// uploads write.
import path from 'node:path';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.ts';
import { SqlMetaStore } from './sql-meta-store.ts';
import { StorageError } from '../../storage-error.ts';

export function openSqliteMetaStore(dataDir: string, sharedByProcesses = false): SqlMetaStore {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'ferry.sqlite');
  // It holds app secrets and signing keys: owner only. SQLite gives its -wal and -shm files the
  // mode of the database file, so creating that one 0600 covers them; an existing database
  // (made by an older Ferry) is tightened here.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodIfExists(f, 0o600);
  // No busy wait in the driver: better-sqlite3 is synchronous, so waiting out another process's
  // write lock would freeze the event loop (every download with it). A locked write fails at
  // once and the meta seam retries it on timers (typed-errors.ts). Reads do not wait in WAL mode.
  const sqlite = new SQLite(file, { timeout: 0 });
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 0');
  // Slot inserts touch random pages (ids are random); a bigger WAL (~40 MB) before each
  // checkpoint lets the many writes to one page collapse into one copy: ~40% less work per slot.
  sqlite.pragma('wal_autocheckpoint = 10000');
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  // An open SQLite handle keeps answering after its file is moved or deleted (and then writes
  // into a file nobody will find again): readiness also checks the path still leads to it.
  const opened = fs.statSync(file);
  const checkLocation = () => {
    let now: fs.Stats;
    try {
      now = fs.statSync(file);
    } catch (err) {
      throw new StorageError(`the database file ${file} is gone (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err, kind: 'unavailable', layer: 'database' });
    }
    if (now.ino !== opened.ino || now.dev !== opened.dev) {
      throw new StorageError(`the database file ${file} was replaced while Ferry runs: restart Ferry`, { kind: 'unavailable', layer: 'database' });
    }
  };
  // One process owns the data folder: no other node can hold an upload claim. With several
  // worker processes (FERRY_WORKERS) the file is shared like a PostgreSQL database is: WAL mode
  // lets them read at once, and a write that finds the lock taken is retried (typed-errors.ts).
  return new SqlMetaStore(db, 'sqlite', sharedByProcesses, undefined, checkLocation);
}

function chmodIfExists(file: string, mode: number): void {
  try {
    fs.chmodSync(file, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
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
