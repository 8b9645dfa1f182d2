// PostgreSQL prepared statements for the reads on the hot path (prepared-read.ts). kysely sends
// every query as an unnamed statement, which the server parses and plans again each time. A
// named statement is parsed once per connection, then only bound and run: measured on a chat
// download's reference read, PostgreSQL's CPU per download went from ~47 to ~24 µs. Only the
// fixed SQL of preparedRead is named, so a connection holds a handful of statements, never one
// per query shape.
import { createHash } from 'node:crypto';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/** SQL text → statement name, for the texts preparedRead compiled (the strings kysely hands the driver). */
const hotStatements = new Map<string, string>();

/** Names this process no longer uses: the server refused them once, their reads run unnamed. */
const retired = new Set<string>();

/**
 * Refusals that mean "this named statement cannot be used here", after which the read is run
 * unnamed (as kysely runs every query) from then on, rather than failing until a restart:
 * - 0A000 "cached plan must not change result type": a newer Ferry node added a column to a
 *   table that a `select *` reads;
 * - 26000 "prepared statement does not exist": a pooler in transaction mode (PgBouncer before
 *   1.21, or without max_prepared_statements) ran the Parse on one server connection and the
 *   Bind on another.
 */
const NAME_REFUSED = new Set(['0A000', '26000']);

/** preparedRead registers its compiled SQL here; the PostgreSQL pool runs it as a named statement. */
export function registerHotStatement(sql: string): void {
  if (!hotStatements.has(sql)) hotStatements.set(sql, `ferry_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`);
}

/** the name sql runs under, undefined when it runs unnamed (never registered, or retired) */
export function statementName(sql: string): string | undefined {
  const name = hotStatements.get(sql);
  return name === undefined || retired.has(name) ? undefined : name;
}

/** What this module needs of a pg client and pool (pg's own types are wider). */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<PostgresQueryResult<unknown>>;
  query(sql: string, parameters: unknown[]): Promise<PostgresQueryResult<unknown>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  release(destroy?: boolean): void;
}
interface PgPool {
  connect(): Promise<PgClient>;
  end(): Promise<void>;
}

/** The pool kysely's PostgresDialect gets: registered reads go out named, everything else as before. */
export function withNamedStatements(pool: PgPool): PostgresPool {
  return {
    end: () => pool.end(),
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      const run = async (sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<unknown>> => {
        const name = statementName(sql);
        if (name === undefined) return client.query(sql, [...parameters]);
        try {
          return await client.query({ name, text: sql, values: [...parameters] });
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (typeof code !== 'string' || !NAME_REFUSED.has(code)) throw err;
          retired.add(name);
          return client.query(sql, [...parameters]);
        }
      };
      return {
        query: ((arg: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>) =>
          typeof arg === 'string' ? run(arg, parameters ?? []) : client.query(arg)) as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
  };
}
