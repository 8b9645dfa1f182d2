// The meta seam's promise to everything above it: a storage failure (database unreachable, busy,
// full, read-only) comes out as a StorageError with an operator's message and the driver's error
// as its cause; any other error (a bug, a constraint) comes out unchanged. Callers never see a
// driver's error codes.
import { StorageError } from '../storage-error.ts';
import type { MetaStore } from './meta-store.ts';
import { asStorageError } from './db-errors.ts';

/**
 * A busy database is retried a few times, waiting on timers rather than in the driver: SQLite
 * runs on the event loop, so its own busy wait would freeze every other request. A write that
 * failed on a lock did not happen, so trying it again is safe. About 0.4 s in all, then 10009.
 */
const BUSY_RETRY_MS = [10, 30, 60, 100, 200];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function withTypedErrors(store: MetaStore): MetaStore {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'close') return value;
      // A generator is not a promise: migrate-store reads it, and its errors reach the CLI as they are.
      if (prop === 'exportRecords') return (value as () => unknown).bind(target);
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = value as (...args: unknown[]) => Promise<unknown>;
        fn = async (...args: unknown[]) => {
          for (let attempt = 0; ; attempt++) {
            try {
              return await method.apply(target, args);
            } catch (err) {
              const typed = asStorageError(err);
              if (typed instanceof StorageError && typed.kind === 'busy' && attempt < BUSY_RETRY_MS.length) {
                await sleep(BUSY_RETRY_MS[attempt]!);
                continue;
              }
              if (typed instanceof StorageError && typed.kind === 'busy') {
                throw new StorageError(`${typed.message} (still locked after ${BUSY_RETRY_MS.reduce((a, b) => a + b)} ms of retries)`, {
                  cause: err,
                  kind: 'busy',
                  layer: 'database',
                });
              }
              throw typed;
            }
          }
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
