// TurnBatch (src/primitives/turn-batch.ts): what is asked in one turn of the event loop goes to
// one load, each caller gets the value for its own key, and one bad key fails only its caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnBatch } from '../../src/primitives/turn-batch.ts';

function recording(answer: (k: string) => string = (k) => `v:${k}`) {
  const loads: string[][] = [];
  const load = async (keys: readonly string[]) => {
    loads.push([...keys]);
    return keys.map(answer);
  };
  return { loads, load };
}

test('the lookups of one turn go to one load, in order, and each caller gets its own value', async () => {
  const { loads, load } = recording();
  const batch = new TurnBatch(load, 100);
  const got = await Promise.all(['a', 'b', 'a', 'c'].map((k) => batch.get(k)));
  assert.deepEqual(got, ['v:a', 'v:b', 'v:a', 'v:c']);
  assert.deepEqual(loads, [['a', 'b', 'a', 'c']]);
});

test('lookups made in later turns go to later loads', async () => {
  const { loads, load } = recording();
  const batch = new TurnBatch(load, 100);
  const first = batch.get('a');
  await nextTurn();
  const second = [batch.get('b'), batch.get('c')];
  assert.deepEqual(await Promise.all([first, ...second]), ['v:a', 'v:b', 'v:c']);
  assert.deepEqual(loads, [['a'], ['b', 'c']]);
});

test('lookups from callbacks of the same poll phase share a load (sockets answered together)', async () => {
  const { loads, load } = recording();
  const batch = new TurnBatch(load, 100);
  // Two callbacks of one phase (as two sockets' data in one poll phase), each with its own
  // microtasks in between. Immediates queued together run in one check phase; the flush the
  // first one schedules runs in the next.
  const got = await new Promise<string[]>((resolve) => {
    const out: Array<Promise<string>> = [];
    setImmediate(() => {
      out.push(batch.get('x'));
      void Promise.resolve().then(() => out.push(batch.get('y')));
    });
    setImmediate(() => {
      out.push(batch.get('z'));
      void Promise.all(out).then(resolve);
    });
  });
  assert.deepEqual(got, ['v:x', 'v:y', 'v:z']);
  assert.deepEqual(loads, [['x', 'y', 'z']]);
});

test('a full batch goes out at once; the rest of the turn goes in the next', async () => {
  const { loads, load } = recording();
  const batch = new TurnBatch(load, 3);
  const keys = ['1', '2', '3', '4', '5', '6', '7'];
  assert.deepEqual(await Promise.all(keys.map((k) => batch.get(k))), keys.map((k) => `v:${k}`));
  assert.deepEqual(loads, [['1', '2', '3'], ['4', '5', '6'], ['7']]);
});

test('a load that fails is asked again key by key: one bad key fails only its own caller', async () => {
  const loads: string[][] = [];
  const batch = new TurnBatch(async (keys: readonly string[]) => {
    loads.push([...keys]);
    if (keys.includes('bad')) throw new Error('bad key');
    return keys.map((k) => `v:${k}`);
  }, 100);
  const got = await Promise.allSettled(['a', 'bad', 'b'].map((k) => batch.get(k)));
  assert.deepEqual(
    got.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['v:a', 'bad key', 'v:b'],
  );
  assert.deepEqual(loads, [['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
});

test('a failure retryAlone says no to fails every caller at once, without asking again', async () => {
  const loads: string[][] = [];
  const down = new Error('database unreachable');
  const batch = new TurnBatch(
    async (keys: readonly string[]) => {
      loads.push([...keys]);
      throw down;
    },
    100,
    (err) => err !== down,
  );
  const got = await Promise.allSettled(['a', 'b', 'c'].map((k) => batch.get(k)));
  assert.deepEqual(got.map((r) => r.status === 'rejected' && r.reason === down), [true, true, true]);
  assert.deepEqual(loads, [['a', 'b', 'c']]);
});

test('a load that answers the wrong number of values fails its callers rather than mixing them up', async () => {
  const batch = new TurnBatch(async (keys: readonly string[]) => keys.slice(1), 100);
  const got = await Promise.allSettled(['a', 'b'].map((k) => batch.get(k)));
  for (const r of got) {
    assert.equal(r.status, 'rejected');
    assert.match((r.reason as Error).message, /answered 1 values for 2 keys/);
  }
});

test('a load that throws instead of rejecting fails its callers, not the process', async () => {
  const batch = new TurnBatch((): Promise<readonly string[]> => {
    throw new Error('thrown');
  }, 100);
  const got = await Promise.allSettled(['a', 'b'].map((k) => batch.get(k)));
  assert.deepEqual(got.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['thrown', 'thrown']);
});

test('maxBatch below 1 is refused', () => {
  assert.throws(() => new TurnBatch(async (k: readonly string[]) => k, 0), /at least 1/);
});
