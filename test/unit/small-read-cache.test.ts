// The small-file cache: bounded by bytes, least recently used out first, evicted on delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { SmallReadCache, cacheSmallReads } from '../../src/bytes/small-read-cache.ts';
import type { ByteRange, ByteStore } from '../../src/bytes/byte-store.ts';

test('never holds more than its budget, and keeps the most recently used', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 60 })), { maxLength: 200 }), (ops) => {
      const cache = new SmallReadCache(1000);
      let last: string | undefined;
      for (const [k, size] of ops) {
        cache.set(`k${k}`, Buffer.alloc(size));
        last = `k${k}`;
        const held = [...Array(21).keys()].reduce((sum, i) => sum + (cache.get(`k${i}`)?.length ?? 0), 0);
        assert.ok(held <= 1000, `held ${held}`);
      }
      if (last) assert.ok(cache.get(last), 'the newest entry is always there');
    }),
  );
});

test('least recently used goes first', () => {
  const cache = new SmallReadCache(16 * 30);
  cache.set('a', Buffer.alloc(30));
  cache.set('b', Buffer.alloc(30));
  cache.get('a');
  for (let i = 0; i < 15; i++) cache.set(`x${i}`, Buffer.alloc(30));
  assert.ok(cache.get('a'), 'a was used recently');
  assert.equal(cache.get('b'), undefined, 'b was the oldest');
});

test('cached reads hit the store once; delete evicts', async () => {
  let reads = 0;
  let deletes = 0;
  const store: ByteStore = {
    init: async () => {},
    stage: async () => ({ commit: async () => {}, discard: async () => {} }),
    read: async () => Readable.from([]),
    readSmall: async (_key: string, range: ByteRange) => {
      reads++;
      return Buffer.alloc(range.end - range.start + 1, reads);
    },
    delete: async () => {
      deletes++;
    },
    close: async () => {},
  };
  const cached = cacheSmallReads(store, 1 << 20);
  const first = await cached.readSmall!('files/a/1', { start: 0, end: 9 });
  const again = await cached.readSmall!('files/a/1', { start: 0, end: 9 });
  assert.equal(reads, 1);
  assert.deepEqual(again, first);
  await cached.delete('files/a/1');
  assert.equal(deletes, 1);
  await cached.readSmall!('files/a/1', { start: 0, end: 9 });
  assert.equal(reads, 2, 'after delete the store is read again');
});
