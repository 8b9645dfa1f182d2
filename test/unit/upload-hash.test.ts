// Which uploads hash on the hashing thread (uploadHash in src/media/upload-guard.ts): files of
// 1 MiB and up or of unknown length, at most HASH_THREAD_STREAMS at once, and only where the
// process may use more than one core. Every hash it hands out digests correctly either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { HASH_THREAD_FROM_BYTES, HASH_THREAD_STREAMS, uploadHash } from '../../src/media/upload-guard.ts';
import { threadStreams, type Sha256 } from '../../src/primitives/sha256-thread.ts';

async function digestOf(hash: Sha256, bytes: Buffer): Promise<string> {
  await hash.update(bytes);
  return hash.digest();
}

test('big and unknown-length uploads take the thread, up to the cap; small ones and the rest hash in place', async () => {
  const bytes = randomBytes(3 * 1024 * 1024);
  const expected = createHash('sha256').update(bytes).digest('hex');
  const spare = availableParallelism() > 1;
  const big = Array.from({ length: HASH_THREAD_STREAMS - 1 }, () => uploadHash(HASH_THREAD_FROM_BYTES));
  const unknown = uploadHash(null);
  assert.equal(threadStreams(), spare ? HASH_THREAD_STREAMS : 0, spare ? 'the first ones are on the thread' : 'one core: all in place');
  const beyond = uploadHash(HASH_THREAD_FROM_BYTES * 10);
  const small = uploadHash(HASH_THREAD_FROM_BYTES - 1);
  assert.equal(threadStreams(), spare ? HASH_THREAD_STREAMS : 0, 'past the cap, and small files, hash in place');
  for (const h of [...big, unknown, beyond, small]) assert.equal(await digestOf(h, bytes), expected);
  assert.equal(threadStreams(), 0, 'digested streams leave the thread');
  const next = uploadHash(null);
  assert.equal(threadStreams(), spare ? 1 : 0, 'room again once streams are done');
  next.drop();
  assert.equal(threadStreams(), 0);
});
