// The end of the current turn of the event loop: a promise that settles in the check phase
// (setImmediate), after every I/O callback of this turn's poll phase has run. One promise is
// shared by everything that waits in the same turn, so waiting costs a `.then`, not a timer.
//
// What runs because a turn ended (the microtasks that follow its settling: a batch of reads
// answered, the answers that then finish) is itself at the end of the turn: it is answered at
// once rather than one whole turn later. That is what the second immediate marks: node drains
// every microtask of one immediate before it runs the next, so `ending` is true exactly while
// the first one's consequences run. So this is not a way to yield to I/O: work that waits for
// the turn's end again and again from there runs on without a pause (nothing does: one batch
// read per request, then its answer).

let current: Promise<void> | null = null;
let ending = false;
const settled = Promise.resolve();

export function endOfTurn(): Promise<void> {
  if (ending) return settled;
  return (current ??= new Promise<void>((resolve) => {
    setImmediate(() => {
      current = null;
      ending = true;
      resolve();
    });
    setImmediate(() => {
      ending = false;
    });
  }));
}
