// endOfTurn (src/primitives/turn-end.ts): settles after every callback of the current phase,
// once per turn, and a later turn gets a promise of its own; what the end of a turn sets off
// does not wait for another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endOfTurn } from '../../src/primitives/turn-end.ts';

test('one promise per turn, settled after the other callbacks of the phase', async () => {
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    // Two callbacks of one phase, as two sockets' data in one poll phase.
    setImmediate(() => {
      const a = endOfTurn();
      assert.equal(endOfTurn(), a, 'the same promise within a turn');
      void a.then(() => order.push('end of turn'));
      order.push('first callback');
    });
    setImmediate(() => {
      order.push('second callback');
      void endOfTurn().then(() => {
        order.push('end of turn, second waiter');
        resolve();
      });
    });
  });
  assert.deepEqual(order, ['first callback', 'second callback', 'end of turn', 'end of turn, second waiter']);
});

test('a later turn waits for its own end', async () => {
  const first = endOfTurn();
  await first;
  // A timer's callback comes in a later turn than the check phase first settled in.
  await new Promise((resolve) => setTimeout(resolve, 1));
  const second = endOfTurn();
  assert.notEqual(second, first);
  let settled = false;
  void second.then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false, 'not settled by a microtask');
  await second;
  assert.equal(settled, true);
});

test('what the end of a turn sets off is at the end of that turn too: it does not wait a turn more', async () => {
  const order: string[] = [];
  await new Promise<void>((resolve) => {
    setImmediate(() => {
      // A batch answered at the turn's end, whose callers then answer in turn (a few microtasks on).
      void endOfTurn()
        .then(() => Promise.resolve())
        .then(() => {
          // Queued now, this runs in the next turn's check phase.
          setImmediate(() => {
            order.push('next turn');
            resolve();
          });
          void endOfTurn().then(() => order.push('answered in the same turn'));
        });
    });
  });
  assert.deepEqual(order, ['answered in the same turn', 'next turn']);
  // And the turn after that has an end of its own again.
  let settled = false;
  void endOfTurn().then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false, 'a callback of a new turn waits for its end');
});
