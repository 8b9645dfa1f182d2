// The scale-out column: PostgreSQL through node-postgres (pg). Every Ferry node opens its own
// small pool; the schema and queries are the same as SQLite's (sql-meta-store.ts).
//
// Why pg and not postgres.js: postgres.js 3.4.9 throws an uncatchable TypeError from a
// setImmediate when a connection closes with a small write pending (porsager/postgres#1154,
// #1208), which kills the whole node when the database restarts. pg reports that as an error
// on the query or on the pool.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { SqlMetaStore } from './sql-meta-store.ts';
import { withNamedStatements } from './named-statements.ts';

interface PostgresOptions {
  /** connections per node; PostgreSQL's default max_connections is 100 for all nodes together */
  maxConnections?: number;
  /** where pool-level errors (an idle connection dropped by the server) are reported */
  onError?: (err: Error) => void;
}

export function openPostgresMetaStore(url: string, opts: PostgresOptions = {}): SqlMetaStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.maxConnections ?? 10,
    // A database that is down must turn into a quick 10009, not requests hanging.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 60_000,
  });
  // An idle connection the server drops (restart, failover) is only reported here; unhandled,
  // the 'error' event would end the process.
  pool.on('error', (err) => opts.onError?.(err));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
  return new SqlMetaStore(db, 'postgres', true);
}
