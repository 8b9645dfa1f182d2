// boundedCache: an LRU bounded by its number of entries, without lru-cache's up-front index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedCache } from '../../src/primitives/bounded-cache.ts';

test('holds at most N entries and drops the least recently used first', () => {
  const c = boundedCache<string, number>(3);
  c.set('a', 1);
  c.set('b', 2);
  c.set('c', 3);
  assert.equal(c.get('a'), 1, 'a is now the most recently used');
  c.set('d', 4);
  assert.equal(c.size, 3);
  assert.equal(c.has('b'), false, 'b was the least recently used');
  assert.deepEqual([...c.keys()].sort(), ['a', 'c', 'd']);
  c.set('a', 10);
  assert.equal(c.size, 3, 'replacing an entry does not grow the cache');
  assert.equal(c.get('a'), 10);
});

test('entries expire after the ttl when one is given', async () => {
  const c = boundedCache<string, string>(10, { ttl: 30 });
  c.set('k', 'v');
  assert.equal(c.get('k'), 'v');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(c.get('k'), undefined);
});

test('a large bound costs nothing until entries arrive (lru-cache with max: N would allocate its index now)', () => {
  globalThis.gc?.();
  const before = process.memoryUsage();
  const caches = Array.from({ length: 10 }, () => boundedCache<string, number>(1_000_000));
  const after = process.memoryUsage();
  const grew = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  assert.ok(grew < 4 * 1024 * 1024, `ten caches of a million entries took ${grew} bytes`);
  caches[0]!.set('x', 1);
  assert.equal(caches[0]!.get('x'), 1);
});
