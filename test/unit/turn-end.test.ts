// endOfTurn (src/primitives/turn-end.ts): settles after every callback of the current phase,
// once per turn, and a later turn gets a promise of its own.
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
  const second = endOfTurn();
  assert.notEqual(second, first);
  let settled = false;
  void second.then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false, 'not settled by a microtask');
  await second;
  assert.equal(settled, true);
});
