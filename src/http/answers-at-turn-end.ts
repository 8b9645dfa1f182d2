// Every answer leaves at the end of the event loop's turn, together with the others of that
// turn, instead of the moment its handler finishes. Under load a turn reads many requests (one
// callback per socket in one poll phase); written as each one finishes, every answer is its own
// wake-up of the client, which comes back with its next request at once, so the next turn reads
// few requests again and the process spends its time entering and leaving the kernel for each.
// Written together, a turn's answers wake the other side once and their next requests come back
// together. Measured with `npm run bench -- core` on this 2-core VM, Ferry pinned to one core
// and wrk to the other, in alternating pairs: slots 21.8k → 28.8k req/s, 16 KiB downloads
// 20.2k → 27.6k, the 302 22.9k → 28.2k, blob URLs 23.7k → 29.9k. An answer waits at most for
// the rest of its turn (microseconds when idle: no timer is involved).
//
// An answer finished by what the turn's end itself set off (a download whose reference read was
// batched to the turn's end, primitives/turn-batch.ts) leaves at once, in that same check phase:
// it is at the end of its turn already. It used to wait one whole turn more, which cost 16 KiB
// downloads 11%, the 302 11% and blob URLs 14% of their rate (alternating pairs, both start
// orders); slots, answered in the poll phase, were unchanged.
//
// Holding each socket corked until the end of the turn instead (answers built at once, sent
// together) was measured twice and changed nothing; why the two differ is not known.
import type { FastifyInstance } from 'fastify';
import { endOfTurn } from '../primitives/turn-end.ts';

export function answerAtTurnEnd(app: FastifyInstance): void {
  app.addHook('onSend', (_req, _reply, payload, done) => {
    void endOfTurn().then(() => done(null, payload));
  });
}
