// preparedRead: a query compiled once and run with each call's values, on a real SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../src/meta/sql/schema.ts';
import { preparedRead } from '../../src/meta/sql/prepared-read.ts';

async function refsDb(): Promise<Kysely<Database>> {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
  await db.schema
    .createTable('file_refs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'text')
    .addColumn('file_id', 'text')
    .addColumn('from_id', 'text')
    .addColumn('to_id', 'text')
    .addColumn('to_type', 'integer')
    .addColumn('file_type', 'integer')
    .addColumn('state', 'text')
    .addColumn('created_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .execute();
  const row = (id: string, app: string, file: string, state: string) => ({ id, app_id: app, file_id: file, from_id: '1', to_id: '2', to_type: 1, file_type: 100, state, created_at: 1, deleted_at: null });
  await db.insertInto('file_refs').values([row('r1', 'a', 'f1', 'live'), row('r2', 'a', 'f1', 'deleted'), row('r3', 'b', 'f2', 'quarantined'), row('r4', 'a', 'f2', 'deleted')]).execute();
  return db;
}

test('each call binds its own values, in the order of the arguments', async () => {
  const db = await refsDb();
  const byId = preparedRead(() => db, 2, (id: string, app: string) => db.selectFrom('file_refs').select(['id', 'state']).where('id', '=', id).where('app_id', '=', app));
  assert.deepEqual(await byId('r1', 'a'), [{ id: 'r1', state: 'live' }]);
  assert.deepEqual(await byId('r3', 'b'), [{ id: 'r3', state: 'quarantined' }]);
  assert.deepEqual(await byId('r3', 'a'), [], 'the app is bound too, not left from the first call');
  assert.deepEqual(await byId("r1' OR '1'='1", 'a'), [], 'values are bound, never spliced into the SQL');
  await db.destroy();
});

test('literals the query writes itself stay bound as compiled; the answers equal the builder run anew', async () => {
  const db = await refsDb();
  const build = (file: string, app: string) =>
    db.selectFrom('file_refs').select('state').where('file_id', '=', file).where('app_id', '=', app).where('state', '!=', 'deleted').orderBy('state').limit(1);
  const stateOf = preparedRead(() => db, 2, build);
  for (const [file, app] of [['f1', 'a'], ['f2', 'a'], ['f2', 'b'], ['nope', 'a']] as const) {
    assert.deepEqual(await stateOf(file, app), await build(file, app).execute(), `${file} ${app}`);
  }
  assert.deepEqual(await stateOf('f2', 'a'), [], "'deleted' is still excluded");
  await db.destroy();
});

test('an argument the query does not use is a programming error, said on first use', async () => {
  const db = await refsDb();
  const broken = preparedRead(() => db, 2, (id: string, _app: string) => db.selectFrom('file_refs').select('id').where('id', '=', id));
  await assert.rejects(broken('r1', 'a'), /argument 1 is not used/);
  await db.destroy();
});
