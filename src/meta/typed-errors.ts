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

/**
 * The store, every method wrapped once, up front: an object whose prototype is the store, with
 * each method an own property (fields are read through the prototype). A Proxy did the same on
 * every property read, and an async wrapper made a promise and a frame on every call: a
 * download makes three of these calls.
 */
export function withTypedErrors(store: MetaStore): MetaStore {
  const typed = Object.create(store) as MetaStore;
  for (const name of methodNames(store)) {
    const method = (store as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    // A generator is not a promise: migrate-store reads it, and its errors reach the CLI as they are.
    const own = name === 'close' || name === 'exportRecords' ? method.bind(store) : retried(store, method);
    Object.defineProperty(typed, name, { value: own });
  }
  return typed;
}

/** Every method of the store and its classes, but the constructor. */
function methodNames(store: MetaStore): Set<string> {
  const names = new Set<string>();
  for (let o: object | null = store; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name !== 'constructor' && typeof (store as unknown as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return names;
}

function retried(target: MetaStore, method: (...args: unknown[]) => unknown): (...args: unknown[]) => Promise<unknown> {
  const attempt = (args: unknown[], n: number): Promise<unknown> => {
    let answer: Promise<unknown>;
    try {
      const r = method.apply(target, args);
      answer = r instanceof Promise ? r : Promise.resolve(r);
    } catch (err) {
      answer = Promise.reject(err);
    }
    return answer.catch(async (err: unknown) => {
      const typed = asStorageError(err);
      if (!(typed instanceof StorageError && typed.kind === 'busy')) throw typed;
      if (n < BUSY_RETRY_MS.length) {
        await sleep(BUSY_RETRY_MS[n]!);
        return attempt(args, n + 1);
      }
      throw new StorageError(`${typed.message} (still locked after ${BUSY_RETRY_MS.reduce((a, b) => a + b)} ms of retries)`, {
        cause: err,
        kind: 'busy',
        layer: 'database',
      });
    });
  };
  return (...args: unknown[]) => attempt(args, 0);
}
