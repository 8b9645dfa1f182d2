// The small-file cache in front of a store: bounded by bytes, least recently used out first,
// evicted on delete, and the store's own capabilities passed through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { CachedByteStore } from '../../src/bytes/cached-store.ts';
import type { ByteRange, ByteStore } from '../../src/bytes/byte-store.ts';

function fakeStore(): ByteStore & { reads: number; deletes: number } {
  const store = {
    reads: 0,
    deletes: 0,
    init: async () => {},
    stage: async () => ({ commit: async () => {}, discard: async () => {} }),
    read: async () => Readable.from([]),
    readSmall: async (_key: string, range: ByteRange) => {
      store.reads++;
      return Buffer.alloc(range.end - range.start + 1, store.reads);
    },
    head: async () => null,
    delete: async () => {
      store.deletes++;
    },
    ping: async () => {},
    close: async () => {},
    locator: (key: string) => `local:///${key}`,
  };
  return store;
}

const range = (size: number): ByteRange => ({ start: 0, end: size - 1 });

test('never holds more than its budget, and keeps the most recently used', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 60 })), { maxLength: 200 }), async (ops) => {
      const cache = new CachedByteStore(fakeStore() as ByteStore & { readSmall(k: string, r: ByteRange): Promise<Buffer> }, 1000);
      let last: [string, number] | undefined;
      for (const [k, size] of ops) {
        await cache.readSmall(`files/k${k}`, range(size));
        last = [`files/k${k}`, size];
        assert.ok(cache.cachedBytes <= 1000, `held ${cache.cachedBytes}`);
      }
      if (last) {
        const inner = (cache as unknown as { inner: { reads: number } }).inner;
        const before = inner.reads;
        await cache.readSmall(last[0], range(last[1]));
        assert.equal(inner.reads, before, 'the newest entry is always there');
      }
    }),
  );
});

test('cached reads hit the store once, least recently used goes first, delete evicts', async () => {
  const store = fakeStore();
  const cached = CachedByteStore.wrap(store, 16 * 30);
  assert.ok(cached instanceof CachedByteStore);
  await cached.readSmall!('files/a', range(30));
  await cached.readSmall!('files/b', range(30));
  await cached.readSmall!('files/a', range(30));
  assert.equal(store.reads, 2);
  for (let i = 0; i < 15; i++) await cached.readSmall!(`files/x${i}`, range(30));
  const reads = store.reads;
  await cached.readSmall!('files/a', range(30));
  assert.equal(store.reads, reads, 'a was used recently: still cached');
  await cached.readSmall!('files/b', range(30));
  assert.equal(store.reads, reads + 1, 'b was the oldest: evicted');

  await cached.delete('files/a');
  assert.equal(store.deletes, 1);
  await cached.readSmall!('files/a', range(30));
  assert.equal(store.reads, reads + 2, 'after delete the store is read again');
});

test('an object over a sixteenth of the budget is read but not kept', async () => {
  const store = fakeStore();
  const cached = CachedByteStore.wrap(store, 1600);
  await cached.readSmall!('files/big', range(101));
  await cached.readSmall!('files/big', range(101));
  assert.equal(store.reads, 2);
});

test('a zero budget, or a store without small reads, is not wrapped', () => {
  const store = fakeStore();
  assert.equal(CachedByteStore.wrap(store, 0), store);
  const { readSmall: _omit, ...plain } = store;
  assert.equal(CachedByteStore.wrap(plain, 1 << 20), plain);
});

test('cachedSmall answers from memory only: nothing before a read, the same bytes after, nothing after a delete', async () => {
  const store = fakeStore();
  const cached = CachedByteStore.wrap(store, 1600);
  assert.equal(cached.cachedSmall!('files/a', range(30)), undefined);
  const read = await cached.readSmall!('files/a', range(30));
  assert.equal(cached.cachedSmall!('files/a', range(30)), read);
  assert.equal(cached.cachedSmall!('files/a', { start: 1, end: 29 }), undefined, 'another range is another entry');
  assert.equal(store.reads, 1, 'cachedSmall never reads the store');
  await cached.delete('files/a');
  assert.equal(cached.cachedSmall!('files/a', range(30)), undefined);
  assert.equal(store.reads, 1);
});
