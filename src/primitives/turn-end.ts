// The end of the current turn of the event loop: a promise that settles in the check phase
// (setImmediate), after every I/O callback of this turn's poll phase has run. One promise is
// shared by everything that waits in the same turn, so waiting costs a `.then`, not a timer.

let current: Promise<void> | null = null;

export function endOfTurn(): Promise<void> {
  return (current ??= new Promise<void>((resolve) => {
    setImmediate(() => {
      current = null;
      resolve();
    });
  }));
}
