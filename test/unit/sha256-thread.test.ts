// SHA-256 on the hashing thread (src/primitives/sha256-thread.ts): the same digest as
// node:crypto on the calling thread for any split of the bytes and any mix of streams, a
// bounded window per stream, no state left behind by dropped streams, failures reported to the
// streams of a thread that stopped, and an idle thread that does not keep a process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import fc from 'fast-check';
import {
  HASH_THREAD_IDLE_MS,
  hashThreadHelps,
  hashThreadState,
  inlineSha256,
  setHashThreadIdleMs,
  stopHashThread,
  threadSha256,
  WINDOW_BUFFER_BYTES,
  type Sha256,
} from '../../src/primitives/sha256-thread.ts';

const expected = (parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Feed parts as a stream does: wait whenever the hash asks to. */
async function feed(hash: Sha256, parts: Uint8Array[]): Promise<string> {
  for (const p of parts) await hash.update(p);
  return hash.digest();
}

const MAX_PART = 2 * WINDOW_BUFFER_BYTES + 1000;
const SOURCE = randomBytes(MAX_PART);

test('the thread digests any split of the bytes as node:crypto does, and leaves nothing behind', async () => {
  await fc.assert(
    fc.asyncProperty(
      // part lengths from empty to more than the whole window, and exactly a buffer's size
      fc.array(fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constant(WINDOW_BUFFER_BYTES), fc.integer({ min: 0, max: MAX_PART })), { maxLength: 12 }),
      async (lengths) => {
        const parts = lengths.map((n, i) => SOURCE.subarray(i % 7, (i % 7) + Math.min(n, MAX_PART - 7)));
        assert.equal(await feed(threadSha256(), parts), expected(parts));
        assert.equal(await feed(inlineSha256(), parts), expected(parts));
      },
    ),
    { numRuns: 60 },
  );
  assert.equal((await hashThreadState())?.openStreams, 0, 'every digested stream is forgotten on the thread');
});

test('many streams at once, their parts interleaved, each get their own digest', async () => {
  const files = Array.from({ length: 8 }, (_, i) => Array.from({ length: 6 }, (_, j) => randomBytes(40_000 * (i + 1) + j)));
  const hashes = files.map(() => threadSha256());
  for (let j = 0; j < 6; j++) await Promise.all(hashes.map((h, i) => h.update(files[i]![j]!)));
  const digests = await Promise.all(hashes.map((h) => h.digest()));
  assert.deepEqual(digests, files.map(expected));
  // A digested stream is done: nothing more is taken, and a late drop changes nothing.
  await assert.rejects(hashes[0]!.digest(), /already digested/);
  await assert.rejects(Promise.resolve(hashes[0]!.update(randomBytes(1))), /already digested/);
  hashes[0]!.drop();
  assert.equal((await hashThreadState())?.openStreams, 0);
});

test('a stream holds at most its window: a part bigger than two buffers waits for one to come back', async () => {
  const hash = threadSha256();
  const part = randomBytes(2 * WINDOW_BUFFER_BYTES + 1);
  const taken = hash.update(part);
  assert.ok(taken instanceof Promise, 'the third buffer has to wait for the thread');
  await taken;
  // Less than a buffer fits the buffer that is being filled.
  assert.equal(hash.update(randomBytes(10)), undefined);
  const small = hash.update(randomBytes(WINDOW_BUFFER_BYTES));
  if (small) await small;
  assert.match(await hash.digest(), /^[0-9a-f]{64}$/);
});

test('the bytes are hashed on the thread, not on the event loop', async () => {
  const before = (await hashThreadState())?.busyMs ?? 0;
  const parts = Array.from({ length: 64 }, () => randomBytes(1024 * 1024));
  assert.equal(await feed(threadSha256(), parts), expected(parts));
  const state = await hashThreadState();
  // 64 MiB take the thread about 30 ms at 2 GiB/s.
  assert.ok(state !== null && state.busyMs > before + 5, `the thread was busy: ${before} -> ${state?.busyMs} ms`);
});

test('a dropped stream leaves no state on the thread and answers no digest', async () => {
  const hash = threadSha256();
  await hash.update(randomBytes(3 * WINDOW_BUFFER_BYTES));
  hash.drop();
  await assert.rejects(hash.digest(), /dropped/);
  await assert.rejects(Promise.resolve(hash.update(randomBytes(10))), /dropped/);
  hash.drop(); // twice is harmless
  assert.equal((await hashThreadState())?.openStreams, 0);
});

test('when the thread stops, its streams fail, and the next stream gets a new thread', async () => {
  const hash = threadSha256();
  await hash.update(randomBytes(WINDOW_BUFFER_BYTES + 5));
  await stopHashThread();
  await assert.rejects(hash.digest(), /hashing thread stopped/);
  await assert.rejects(Promise.resolve(hash.update(randomBytes(1))), /hashing thread stopped/);
  const parts = [randomBytes(WINDOW_BUFFER_BYTES * 3)];
  assert.equal(await feed(threadSha256(), parts), expected(parts));
});

test('a thread idle for its idle time stops (a busy one does not), and the next stream starts a new one', async () => {
  setHashThreadIdleMs(50);
  try {
    const parts = [randomBytes(WINDOW_BUFFER_BYTES + 1)];
    const slow = threadSha256();
    await slow.update(parts[0]!);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await slow.digest(), expected(parts), 'a thread with a stream open is not stopped');
    const deadline = Date.now() + 5_000;
    while ((await hashThreadState()) !== null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await hashThreadState(), null, 'the idle thread stopped');
    assert.equal(await feed(threadSha256(), parts), expected(parts));
    assert.notEqual(await hashThreadState(), null, 'a new thread');
  } finally {
    setHashThreadIdleMs(HASH_THREAD_IDLE_MS);
  }
});

test('an idle hashing thread does not keep the process alive', () => {
  const code = `
    const m = await import('./src/primitives/sha256-thread.ts');
    const h = m.threadSha256();
    await h.update(new Uint8Array(3 * 1024 * 1024));
    console.log(await h.digest());
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(out.trim(), createHash('sha256').update(new Uint8Array(3 * 1024 * 1024)).digest('hex'));
});

test('the thread is used only where the process has more than one core to run on', () => {
  const helps = (cpus: string) =>
    execFileSync('taskset', ['-c', cpus, process.execPath, '--import', 'tsx', '--input-type=module', '-e', "const m = await import('./src/primitives/sha256-thread.ts'); console.log(m.hashThreadHelps())"], {
      encoding: 'utf8',
    }).trim();
  assert.equal(helps('0'), 'false', 'pinned to one core, the thread would only take turns with the event loop');
  assert.equal(hashThreadHelps(), availableParallelism() > 1);
  if (availableParallelism() > 1) assert.equal(helps('0,1'), 'true');
});
