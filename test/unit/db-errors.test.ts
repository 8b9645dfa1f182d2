// The meta seam's classification, on errors the real driver throws: storage failures become
// StorageError with the right kind and the driver's error as cause; logic errors pass unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { asStorageError } from '../../src/meta/db-errors.ts';
import { StorageError } from '../../src/storage-error.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

test('SQLite read-only, busy and constraint errors from better-sqlite3', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-dberr-'));
  try {
    const file = path.join(dir, 'x.sqlite');
    const rw = new SQLite(file, { timeout: 0 });
    rw.pragma('journal_mode = WAL');
    rw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    rw.exec('INSERT INTO t VALUES (1)');

    const ro = new SQLite(file, { readonly: true });
    const readOnly = asStorageError(thrown(() => ro.exec('INSERT INTO t VALUES (2)')));
    assert.ok(readOnly instanceof StorageError);
    assert.equal(readOnly.kind, 'read-only');
    assert.match(readOnly.message, /read-only/);
    assert.equal((readOnly.cause as { code?: string }).code, 'SQLITE_READONLY');

    const other = new SQLite(file, { timeout: 0 });
    rw.exec('BEGIN IMMEDIATE');
    const busy = asStorageError(thrown(() => other.exec('INSERT INTO t VALUES (3)')));
    rw.exec('ROLLBACK');
    assert.ok(busy instanceof StorageError);
    assert.equal(busy.kind, 'busy');

    const constraint = thrown(() => rw.exec('INSERT INTO t VALUES (1)'));
    assert.equal(asStorageError(constraint), constraint, 'a constraint violation is a logic error, not storage');
    for (const db of [ro, other, rw]) db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL and socket failures, by code', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ code: 'ECONNREFUSED' }, 'unavailable'],
    [{ code: '57P01' }, 'unavailable'],
    [{ code: '53100' }, 'full'],
    [{ code: '25006' }, 'read-only'],
    [{ code: '55P03' }, 'busy'],
  ];
  for (const [props, kind] of cases) {
    const err = asStorageError(Object.assign(new Error('driver says no'), props));
    assert.ok(err instanceof StorageError, JSON.stringify(props));
    assert.equal(err.kind, kind, JSON.stringify(props));
  }
  const unique = Object.assign(new Error('duplicate key'), { code: '23505' });
  assert.equal(asStorageError(unique), unique);
});
