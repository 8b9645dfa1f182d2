// The hot reads run as PostgreSQL named statements (src/meta/sql/named-statements.ts), on a real
// server: parsed once per connection, and run unnamed again, without an error reaching the
// caller, when the server refuses the name (the table changed under it; a pooler lost it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { PostgresPool } from 'kysely';
import { createDatabase, modeEnv } from '../helpers/storage-mode.ts';
import { registerHotStatement, statementName, withNamedStatements } from '../../src/meta/sql/named-statements.ts';

let db: { url: string; drop(): Promise<void> };
let raw: pg.Pool;
let pool: PostgresPool;

before(async () => {
  const url = modeEnv().FERRY_DATABASE_URL;
  assert.ok(url, 'the scale-out pass sets FERRY_DATABASE_URL');
  db = await createDatabase(url);
  // One connection, so what one query prepared the next one sees.
  raw = new pg.Pool({ connectionString: db.url, max: 1 });
  pool = withNamedStatements(raw);
  await raw.query("create table t (id text primary key, a text not null); insert into t values ('x', '1'), ('y', '2')");
});

after(async () => {
  await raw?.end();
  await db?.drop();
});

async function onOneConnection<T>(work: (q: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(async (sql, params = []) => (await client.query<Record<string, unknown>>(sql, params)).rows);
  } finally {
    client.release();
  }
}

const prepared = (q: (sql: string) => Promise<Record<string, unknown>[]>) =>
  q('select name from pg_prepared_statements order by name').then((rows) => rows.map((r) => r.name));

test('a registered read is prepared once under its name and answers like an unnamed one; others stay unnamed', async () => {
  const sql = 'select * from t where id = $1 /* named-1 */';
  registerHotStatement(sql);
  const name = statementName(sql);
  assert.match(name ?? '', /^ferry_[0-9a-f]{16}$/);
  await onOneConnection(async (q) => {
    assert.deepEqual(await q(sql, ['x']), [{ id: 'x', a: '1' }]);
    assert.deepEqual(await q(sql, ['y']), [{ id: 'y', a: '2' }], 'the second run binds new values');
    assert.deepEqual(await q(sql, ['none']), []);
    assert.deepEqual(await prepared(q), [name]);
    assert.deepEqual(await q('select a from t where id = $1', ['x']), [{ a: '1' }]);
    assert.deepEqual(await prepared(q), [name], 'an unregistered query is not prepared');
  });
});

test('a table changed under a named read: the read answers with the new columns, unnamed from then on', async () => {
  const sql = 'select * from t where id = $1 /* named-2 */';
  registerHotStatement(sql);
  await onOneConnection(async (q) => {
    assert.deepEqual(await q(sql, ['x']), [{ id: 'x', a: '1' }]);
    await q("alter table t add column b text not null default 'z'");
    // PostgreSQL refuses the old plan (0A000); the caller sees only the answer.
    assert.deepEqual(await q(sql, ['x']), [{ id: 'x', a: '1', b: 'z' }]);
    assert.equal(statementName(sql), undefined, 'retired');
    assert.deepEqual(await q(sql, ['y']), [{ id: 'y', a: '2', b: 'z' }]);
  });
});

test('a named read the server no longer has (as behind a transaction-mode pooler) answers, unnamed from then on', async () => {
  const sql = 'select a from t where id = $1 /* named-3 */';
  registerHotStatement(sql);
  const name = statementName(sql)!;
  await onOneConnection(async (q) => {
    assert.deepEqual(await q(sql, ['x']), [{ a: '1' }]);
    // Dropped behind the client's back: pg still believes it is prepared, the server says 26000.
    await q(`deallocate ${name}`);
    assert.deepEqual(await q(sql, ['y']), [{ a: '2' }]);
    assert.equal(statementName(sql), undefined, 'retired');
  });
});

test('other errors of a named read reach the caller', async () => {
  const sql = 'select a from t where length(a) = $1::int /* named-4 */';
  registerHotStatement(sql);
  await onOneConnection(async (q) => {
    assert.deepEqual(await q(sql, ['1']), [{ a: '1' }, { a: '2' }]);
    await assert.rejects(q(sql, ['not a number']), (err: { code?: string }) => err.code === '22P02');
    assert.notEqual(statementName(sql), undefined, 'still named');
  });
});
