// A read on the hot path, built and compiled by kysely once and then run with each call's
// values. kysely builds an immutable tree and compiles it to SQL on every call, which costs more
// than SQLite's own primary-key lookup: a 16 KiB download spent about a fifth of its time there.
// The SQL text of these reads never changes, only the values bound to it.
import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { registerHotStatement } from './named-statements.ts';

/** stands for the i-th argument while the query is compiled (no real id contains a NUL) */
const marker = (i: number) => `\u0000ferry-arg-${i}\u0000`;

/**
 * `build` receives one marker string per argument and uses each where the value goes; literal
 * values it writes itself (a state, a limit) stay bound as compiled. The returned function runs
 * the query with the given arguments, in the same order. A list argument (PostgreSQL's
 * `= any(${ids}::text[])`) is a marker string too while `build` runs, so it may only be
 * interpolated into a sql`` fragment, never read.
 */
export function preparedRead<Row, Args extends Array<string | readonly string[]>>(
  /** the database (a getter: stores declare their reads as fields, before their constructor runs) */
  db: () => Kysely<Database>,
  arity: Args['length'],
  build: (...args: Args) => Compilable<Row>,
): (...args: Args) => Promise<Row[]> {
  let compiled: { query: CompiledQuery<Row>; slots: number[] } | undefined;
  const prepare = () => {
    const markers = Array.from({ length: arity }, (_, i) => marker(i)) as Args;
    const query = build(...markers).compile();
    const slots = query.parameters.map((p) => (typeof p === 'string' ? markers.indexOf(p) : -1));
    for (let i = 0; i < arity; i++) if (!slots.includes(i)) throw new Error(`preparedRead: argument ${i} is not used by the query`);
    // On PostgreSQL, a named statement: parsed and planned once per connection.
    registerHotStatement(query.sql);
    return { query, slots };
  };
  return async (...args: Args) => {
    compiled ??= prepare();
    const { query, slots } = compiled;
    const parameters = query.parameters.map((p, i) => (slots[i]! >= 0 ? args[slots[i]!] : p));
    return (await db().executeQuery<Row>({ ...query, parameters })).rows;
  };
}
