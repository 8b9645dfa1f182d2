// withTypedErrors, the meta seam's error promise, on a fake store (pure logic: what it does with
// what a driver throws). The real SQLite and PostgreSQL stores run through it in every
// integration test; test/embedded/busy-database.test.ts holds a real lock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withTypedErrors } from '../../src/meta/typed-errors.ts';
import { StorageError } from '../../src/storage-error.ts';
import type { MetaStore } from '../../src/meta/meta-store.ts';

const driverError = (code: string) => Object.assign(new Error(`driver says ${code}`), { code });

class FakeStore {
  readonly sharedByNodes = true;
  calls = 0;
  failures: Error[] = [];
  async read(x: number): Promise<number> {
    this.calls++;
    const next = this.failures.shift();
    if (next) throw next;
    return x * 2;
  }
  syncThrow(): Promise<number> {
    throw driverError('SQLITE_FULL');
  }
  async *exportRecords(): AsyncGenerator<number> {
    yield this.calls;
  }
  async close(): Promise<string> {
    return `closed after ${this.calls}`;
  }
}

const wrap = () => {
  const raw = new FakeStore();
  return { raw, store: withTypedErrors(raw as unknown as MetaStore) as unknown as FakeStore };
};

test('a busy database is tried again on timers, and the answer comes back', async () => {
  const { raw, store } = wrap();
  raw.failures = [driverError('SQLITE_BUSY'), driverError('SQLITE_BUSY_SNAPSHOT')];
  assert.equal(await store.read(21), 42);
  assert.equal(raw.calls, 3);
});

test('still busy after every retry: a StorageError of kind busy that says so', async () => {
  const { raw, store } = wrap();
  raw.failures = Array.from({ length: 10 }, () => driverError('SQLITE_BUSY'));
  await assert.rejects(store.read(1), (err: unknown) => {
    assert.ok(err instanceof StorageError);
    assert.equal(err.kind, 'busy');
    assert.match(err.message, /still locked after 400 ms of retries/);
    return true;
  });
  assert.equal(raw.calls, 6, 'the first try and five retries');
});

test('other storage failures are typed at once, thrown synchronously or not; a bug passes unchanged', async () => {
  const { raw, store } = wrap();
  raw.failures = [driverError('SQLITE_READONLY')];
  await assert.rejects(store.read(1), (err: unknown) => err instanceof StorageError && err.kind === 'read-only');
  assert.equal(raw.calls, 1, 'not retried');
  await assert.rejects(store.syncThrow(), (err: unknown) => err instanceof StorageError && err.kind === 'full');
  const bug = new TypeError('a bug');
  raw.failures = [bug];
  await assert.rejects(store.read(1), (err: unknown) => err === bug);
});

test('fields read through; close and exportRecords run on the store itself; a method is one function', async () => {
  const { raw, store } = wrap();
  assert.equal(store.sharedByNodes, true);
  assert.equal(store.read, store.read, 'wrapped once');
  await store.read(1);
  const seen: number[] = [];
  for await (const n of store.exportRecords()) seen.push(n);
  assert.deepEqual(seen, [1], 'the generator as it is, on the real store');
  assert.equal(await store.close(), 'closed after 1');
  assert.equal(raw.calls, 1);
});
